#!/bin/bash
# s22 (hF): Callgrind instructions of streams.bench.instructions (3000 samples, 1 and 2 passes) in one tree, pure (FOREWARN_PURE_PYTHON=1) and compiled (build/native)
cd ${TREE:-/tmp/hF/wt22}
for mode in ${MODES:-pure compiled}; do
  if [ $mode = pure ]; then export FOREWARN_PURE_PYTHON=1; else unset FOREWARN_PURE_PYTHON; fi
  /work/main/.venv/bin/python -c "import processors; print('$mode native:', processors.NATIVE)"
  for p in 1 2; do
    echo "=== $mode passes $p $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
    PYTHONHASHSEED=0 nice -n 19 valgrind --tool=callgrind --callgrind-out-file=/dev/null /work/main/.venv/bin/python -m streams.bench.instructions --samples 3000 --passes $p 2>&1 | grep -E "passes of|refs|Error|error"
  done
done
echo "=== end $(date -u +%T)"
