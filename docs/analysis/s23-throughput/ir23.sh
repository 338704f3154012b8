#!/bin/bash
# s23 (hT): Callgrind instructions of streams.bench.instructions (SAMPLES, 1 and 2 passes) in one
# tree, pure (FOREWARN_PURE_PYTHON=1) and/or compiled (build/native); with CG set, each run's
# callgrind output is kept there (per-function profile: profile23.py).
TREE=${TREE:-$(pwd)}; PY=${PY:-$TREE/.venv/bin/python}; N=${SAMPLES:-3000}
cd $TREE; export PYTHONPATH=$TREE
for mode in ${MODES:-pure compiled}; do
  if [ $mode = pure ]; then export FOREWARN_PURE_PYTHON=1; else unset FOREWARN_PURE_PYTHON; fi
  $PY -c "import processors; print('$mode native:', processors.NATIVE)"
  for p in ${PASSES:-1 2}; do
    echo "=== $mode passes $p $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
    f=/dev/null; [ -n "$CG" ] && f=$CG/cg.$mode.p$p.out
    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=$f $PY -m streams.bench.instructions --samples $N --passes $p 2>&1 | grep -E "passes of|refs|Error|error"
  done
done
echo "=== end $(date -u +%T)"
