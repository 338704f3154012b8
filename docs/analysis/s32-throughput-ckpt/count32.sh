#!/bin/bash
# s32 (hT): one Callgrind count of the contract line's steady state (s31's steady31.py: one
# pipeline over the bench's 12,000 `fleet` samples, instrumentation on from the poll at 9,600),
# in TREE (default: here) with its compiled build (or MODE=pure); the output kept as CG/NAME.out
# for callgrind_annotate. CGMARK: docs/analysis/s27-checkpoint/cgmark.c built as a .so.
#   CGMARK=/tmp/hT31/cgmark.so CG=/tmp/hT32/cg docs/analysis/s32-throughput-ckpt/count32.sh base
echo 19 > /proc/self/autogroup 2>/dev/null
TREE=${TREE:-$(pwd)}; PY=${PY:-/work/main/.venv/bin/python}; cd $TREE; mode=${MODE:-compiled}
export PYTHONPATH=$TREE OPENBLAS_NUM_THREADS=1 PYTHONHASHSEED=0
B=${BATCHES:-/tmp/steady30-12000.pkl}
[ -f $B ] || $PY docs/analysis/s30-throughput/steady30.py --samples 12000 --upto 0 --batches $B
if [ $mode = pure ]; then export FOREWARN_PURE_PYTHON=1; else unset FOREWARN_PURE_PYTHON; fi
mkdir -p ${CG:=/tmp/cg32}
echo "=== $1 $mode $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- processors streams || echo +changes) native: $($PY -c 'import processors; print(processors.NATIVE)') $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
CGMARK=${CGMARK:?the path of cgmark.so} valgrind --tool=callgrind --instr-atstart=no \
  --callgrind-out-file=$CG/$1.out $PY docs/analysis/s31-throughput-ckpt/steady31.py --from 9000 \
  --batches $B 2>&1 | grep -E "samples,|refs|Error|error"
echo "=== end $(date -u +%T)"
