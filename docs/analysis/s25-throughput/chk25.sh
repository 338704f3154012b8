#!/bin/bash
# s25 (hT): a tree's change checked, as s24's chk24.sh: its build current and holding the change,
# checkpoint bytes (snapbench --digest), identity against a baseline's pure save (BASE json) per
# message and --batch 64, the compiled tests (COMPILED_TESTS less COMPILED_SKIP, plus the pipeline
# tests), then the Callgrind counts of ir24.sh (CG: where the callgrind files go). MODES: pure,
# compiled or both (default). TREE: the checkout (default: the current folder).
TREE=${TREE:-$(pwd)}; PY=${PY:-$TREE/.venv/bin/python}; BASE=${BASE:?BASE=identity json}
cd $TREE; export PYTHONPATH=$TREE
TESTS=$(make -s -f - print <<<'include Makefile
print: ; @echo $(COMPILED_TESTS)')
SKIP=$(make -s -f - print <<<'include Makefile
print: ; @echo "$(COMPILED_SKIP)"')
for mode in ${MODES:-pure compiled}; do
  if [ $mode = pure ]; then export FOREWARN_PURE_PYTHON=1; else unset FOREWARN_PURE_PYTHON
    $PY -c "import processors, sys; print('native', processors.NATIVE); sys.exit(processors.NATIVE is None)" || exit 1; fi
  echo "== $mode digest $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
  $PY docs/analysis/s24-throughput/snapbench.py --digest
  for b in 0 64; do
    echo "== $mode identity --batch $b $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
    $PY -m streams.bench.identity --check $BASE --batch $b 2>&1 | tail -2; echo "rc ${PIPESTATUS[0]}"
  done
  echo "== $mode tests $(date -u +%T)"
  $PY -m pytest -q -p no:cacheprovider $TESTS tests/unit/test_batch_pipeline.py tests/unit/test_pipeline.py \
    -k "$SKIP" 2>&1 | tail -2
done
[ -n "$CG" ] && mkdir -p $CG && TREE=$TREE PY=$PY CG=$CG bash docs/analysis/s24-throughput/ir24.sh
echo "== end $(date -u +%T)"
