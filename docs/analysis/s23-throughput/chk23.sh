#!/bin/bash
# s23 (hT): `make test-compiled`'s steps in a worktree (no `make`: its setup stamp would reinstall
# the shared venv), with the Makefile's COMPILED_TESTS and COMPILED_SKIP.
TREE=${TREE:-$(pwd)}; PY=${PY:-$TREE/.venv/bin/python}; OUT=${OUT:-$TREE/build}
cd $TREE; export PYTHONPATH=$TREE
TESTS=$(make -s -f - print <<<'include Makefile
print: ; @echo $(COMPILED_TESTS)')
SKIP=$(make -s -f - print <<<'include Makefile
print: ; @echo "$(COMPILED_SKIP)"')
$PY -c "import processors, sys; print('native', processors.NATIVE); sys.exit(processors.NATIVE is None)" || exit 1
echo "== pure identity save $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
FOREWARN_PURE_PYTHON=1 $PY -m streams.bench.identity --save $OUT/identity-pure.json 2>&1 | tail -3
for b in 0 64; do
  echo "== compiled identity --batch $b $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
  $PY -m streams.bench.identity --check $OUT/identity-pure.json --batch $b 2>&1 | tail -10; echo "rc ${PIPESTATUS[0]}"
done
echo "== unit tests compiled $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
$PY -m pytest -q -p no:cacheprovider $TESTS -k "$SKIP" 2>&1 | tail -30
echo "== end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
