#!/bin/bash
# s24 (hT): a tree's change checked: its build current and holding the change, checkpoint bytes
# (snapbench --digest) pure and compiled, identity against a baseline's pure save (BASE json) pure
# and compiled, per message and --batch 64, then `make test-compiled`'s unit tests (COMPILED_TESTS
# less COMPILED_SKIP) on the build. TREE: the checkout (default: the current folder).
TREE=${TREE:-$(pwd)}; PY=${PY:-$TREE/.venv/bin/python}; BASE=${BASE:?BASE=identity json}
cd $TREE; export PYTHONPATH=$TREE; S=docs/analysis/s24-throughput
TESTS=$(make -s -f - print <<<'include Makefile
print: ; @echo $(COMPILED_TESTS)')
SKIP=$(make -s -f - print <<<'include Makefile
print: ; @echo "$(COMPILED_SKIP)"')
$PY -c "import processors, sys; print('native', processors.NATIVE); sys.exit(processors.NATIVE is None)" || exit 1
for mode in pure compiled; do
  if [ $mode = pure ]; then export FOREWARN_PURE_PYTHON=1; else unset FOREWARN_PURE_PYTHON; fi
  echo "== $mode digest $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
  $PY $S/snapbench.py --digest
  for b in 0 64; do
    echo "== $mode identity --batch $b $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
    $PY -m streams.bench.identity --check $BASE --batch $b 2>&1 | tail -9; echo "rc ${PIPESTATUS[0]}"
  done
done
echo "== unit tests compiled $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
$PY -m pytest -q -p no:cacheprovider $TESTS tests/unit/test_seenset.py -k "$SKIP" 2>&1 | tail -4
echo "== end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
