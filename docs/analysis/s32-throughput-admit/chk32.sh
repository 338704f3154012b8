#!/bin/bash
# s32 (hB): the checks of the admit lever (rule (1), (2), (4), docs/throughput.md s32) in TREE
# (default: here) with its compiled build, against BASE (a pure identity save of the base):
# the steady state's checkpoint digest (steady31.py --digest), the snapshot digest
# (snapbench.py --digest), the unit tests (compiled: make's COMPILED_TESTS -k COMPILED_SKIP and
# the admit tests; pure: the touched modules' tests), identity per message and --batch 64.
#   BASE=/tmp/hB32/base-pure.json MODES="compiled pure" docs/analysis/s32-throughput-admit/chk32.sh
# EXTRA_DOCTESTS="MODULE ...": more modules' doctests in the pure run (s33's chk33.sh).
echo 19 > /proc/self/autogroup 2>/dev/null
TREE=${TREE:-$(pwd)}; PY=${PY:-/work/main/.venv/bin/python}; cd $TREE
export PYTHONPATH=$TREE OPENBLAS_NUM_THREADS=1 PYTHONHASHSEED=0
B=${BATCHES:-/tmp/steady30-12000.pkl}
[ -f $B ] || $PY docs/analysis/s30-throughput/steady30.py --samples 12000 --upto 0 --batches $B
ct=$(make -s --no-print-directory --eval='print-ct: ; @echo $(COMPILED_TESTS)' print-ct)
cs=$(make -s --no-print-directory --eval='print-cs: ; @echo "$(COMPILED_SKIP)"' print-cs)
mine="tests/unit/test_admit_same.py tests/unit/test_features.py tests/unit/test_batch_features.py"
for mode in ${MODES:-compiled pure}; do
  if [ $mode = pure ]; then export FOREWARN_PURE_PYTHON=1; else unset FOREWARN_PURE_PYTHON; fi
  echo "=== $mode native: $($PY -c 'import processors; print(processors.NATIVE)') $(date -u +%T)"
  echo "steady-state checkpoint digest: $($PY docs/analysis/s31-throughput-ckpt/steady31.py --batches $B --digest)"
  echo "snapbench digest: $($PY docs/analysis/s24-throughput/snapbench.py --digest)"
  if [ -z "$NOTESTS" ]; then
    if [ $mode = compiled ]; then
      echo "tests (COMPILED_TESTS + admit): $($PY -m pytest -q -p no:cacheprovider $ct $mine -k "$cs" 2>&1 | grep -E "passed|failed|error" | tail -1)"
    else
      echo "tests (admit, pipeline): $($PY -m pytest -q -p no:cacheprovider $mine tests/unit/test_pipeline.py \
        tests/unit/test_batch_pipeline.py --doctest-modules processors/openwindow.py processors/features.py $EXTRA_DOCTESTS 2>&1 | grep -E "passed|failed|error" | tail -1)"
    fi
  fi
  [ -n "$BASE" ] || continue
  echo "identity per message: $($PY -m streams.bench.identity --check $BASE | tail -1)"
  echo "identity --batch 64: $($PY -m streams.bench.identity --check $BASE --batch 64 | tail -1)"
done
echo "=== end $(date -u +%T)"
