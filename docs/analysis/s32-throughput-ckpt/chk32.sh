#!/bin/bash
# s32 (hT): the checks of the checkpoint shortcuts (rule (1), (2), (4); docs/throughput.md s32) in
# TREE (default: here) with its compiled build, against BASE (a pure identity save of the base).
#   BASE=/tmp/hT32/base-a147756-pure.json docs/analysis/s32-throughput-ckpt/chk32.sh
echo 19 > /proc/self/autogroup 2>/dev/null
TREE=${TREE:-$(pwd)}; PY=${PY:-/work/main/.venv/bin/python}; cd $TREE
export PYTHONPATH=$TREE OPENBLAS_NUM_THREADS=1 PYTHONHASHSEED=0
B=${BATCHES:-/tmp/steady30-12000.pkl}
[ -f $B ] || $PY docs/analysis/s30-throughput/steady30.py --samples 12000 --upto 0 --batches $B
TESTS="$(make -s -f - print <<<'include Makefile
print: ; @echo $(COMPILED_TESTS)') tests/unit/test_state_fastwrite.py"
SKIP="$(make -s -f - print <<<'include Makefile
print: ; @echo $(COMPILED_SKIP)')"
for mode in compiled pure; do
  if [ $mode = pure ]; then export FOREWARN_PURE_PYTHON=1; else unset FOREWARN_PURE_PYTHON; fi
  echo "=== $mode native: $($PY -c 'import processors; print(processors.NATIVE)') $(date -u +%T)"
  echo "steady-state checkpoint digest: $($PY docs/analysis/s31-throughput-ckpt/steady31.py --batches $B --digest)"
  echo "snapbench digest: $($PY docs/analysis/s24-throughput/snapbench.py --digest)"
  echo "identity per message: $($PY -m streams.bench.identity --check $BASE | tail -1)"
  echo "identity --batch 64: $($PY -m streams.bench.identity --check $BASE --batch 64 | tail -1)"
  if [ $mode = compiled ]; then  # make's compiled tests (and the new file), as test-compiled runs them
    $PY -m pytest -q -p no:cacheprovider $TESTS -k "$SKIP" 2>&1 | tail -1
  else  # the touched modules' tests, interpreted
    $PY -m pytest -q -p no:cacheprovider tests/unit/test_state_fastwrite.py tests/unit/test_state_compact.py \
      tests/unit/test_state_v4.py tests/unit/test_state_format.py tests/unit/test_state_encode.py \
      tests/unit/test_state_shared.py tests/unit/test_checkpoint.py tests/unit/test_risk_learning.py \
      tests/unit/test_worker_checkpoint_order.py 2>&1 | tail -1
  fi
done
echo "=== end $(date -u +%T)"
