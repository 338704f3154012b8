#!/bin/bash
# s31 (hT): the checks of the round of checkpoints (rule (a)-(c), docs/throughput.md s31), in
# TREE (default: here) with its compiled build, against BASE (a pure identity save of the base).
#   BASE=/tmp/hT31/base-dbdeb49-pure.json docs/analysis/s31-throughput-ckpt/chk31.sh
echo 19 > /proc/self/autogroup 2>/dev/null
TREE=${TREE:-$(pwd)}; PY=${PY:-/work/main/.venv/bin/python}; cd $TREE
export PYTHONPATH=$TREE OPENBLAS_NUM_THREADS=1 PYTHONHASHSEED=0
B=${BATCHES:-/tmp/steady30-12000.pkl}
[ -f $B ] || $PY docs/analysis/s30-throughput/steady30.py --samples 12000 --upto 0 --batches $B
for mode in compiled pure; do
  if [ $mode = pure ]; then export FOREWARN_PURE_PYTHON=1; else unset FOREWARN_PURE_PYTHON; fi
  echo "=== $mode native: $($PY -c 'import processors; print(processors.NATIVE)') $(date -u +%T)"
  echo "steady-state checkpoint digest: $($PY docs/analysis/s31-throughput-ckpt/steady31.py --batches $B --digest)"
  echo "snapbench digest: $($PY docs/analysis/s24-throughput/snapbench.py --digest)"
  $PY -m pytest -q -p no:cacheprovider tests/unit/test_state_shared.py tests/unit/test_checkpoint.py \
    tests/unit/test_worker_checkpoint_order.py tests/unit/test_state_v4.py 2>&1 | tail -1
  echo "identity per message: $($PY -m streams.bench.identity --check $BASE | tail -1)"
  echo "identity --batch 64: $($PY -m streams.bench.identity --check $BASE --batch 64 | tail -1)"
done
echo "=== end $(date -u +%T)"
