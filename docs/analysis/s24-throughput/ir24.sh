#!/bin/bash
# s24 (hT): Callgrind instructions of streams.bench.instructions (SAMPLES, 1 and 2 passes) in one
# tree, pure (FOREWARN_PURE_PYTHON=1) and/or compiled (build/native), as s23's ir23.sh; ARGS are
# added to the bench's (e.g. --no-sizes); with CG set, each run's callgrind output is kept there
# (per-function profile: docs/analysis/s23-throughput/profile23.py).
TREE=${TREE:-$(pwd)}; PY=${PY:-$TREE/.venv/bin/python}; N=${SAMPLES:-3000}
cd $TREE; export PYTHONPATH=$TREE
for mode in ${MODES:-pure compiled}; do
  if [ $mode = pure ]; then export FOREWARN_PURE_PYTHON=1; else unset FOREWARN_PURE_PYTHON; fi
  echo "$mode $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- processors streams || echo +changes) native: $($PY -c 'import processors; print(processors.NATIVE)' 2>&1)"
  for p in ${PASSES:-1 2}; do
    echo "=== $mode passes $p $ARGS $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
    f=/dev/null; [ -n "$CG" ] && f=$CG/cg.$mode.p$p.out
    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=$f $PY -m streams.bench.instructions --samples $N --passes $p $ARGS 2>&1 | grep -E "passes of|refs|Error|error"
  done
done
echo "=== end $(date -u +%T)"
