#!/bin/bash
# s30 (hT): Callgrind counts of steady30.py stopped after each of UPTO's sample counts (one
# pipeline over SAMPLES samples; 12,000 = 240 a component), compiled (or MODE=pure); with CG set,
# each run's callgrind output is kept there as cg.MODE.uK.out (stepprof30.py: per function).
#   TREE=/work/wt/hT CG=/tmp/hT30/cgA UPTO="9000 12000" steady30.sh
TREE=${TREE:-$(pwd)}; PY=${PY:-/work/main/.venv/bin/python}; N=${SAMPLES:-12000}; mode=${MODE:-compiled}
cd $TREE; export PYTHONPATH=$TREE OPENBLAS_NUM_THREADS=1
B=${BATCHES:-/tmp/steady30-$N.pkl}; [ -f $B ] || $PY docs/analysis/s30-throughput/steady30.py --samples $N --upto 0 --batches $B
if [ $mode = pure ]; then export FOREWARN_PURE_PYTHON=1; else unset FOREWARN_PURE_PYTHON; fi
echo "$mode $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- processors streams || echo +changes) native: $($PY -c 'import processors; print(processors.NATIVE)' 2>&1)"
for k in ${UPTO:-3000 6000 9000 12000}; do
  echo "=== $mode upto $k of $N $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
  f=/dev/null; [ -n "$CG" ] && mkdir -p $CG && f=$CG/cg.$mode.u$k.out
  PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=$f $PY docs/analysis/s30-throughput/steady30.py --samples $N --upto $k --batches $B 2>&1 | grep -E "samples,|refs|Error|error"
done
echo "=== end $(date -u +%T)"
