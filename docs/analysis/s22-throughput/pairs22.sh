#!/bin/bash
# s22 (hF): interleaved pairs at normal priority in one tree (wt22 = 3725add's processors/streams, built): the worker's in-process work (CPU µs a sample), pure then compiled, N pairs
cd ${TREE:-/tmp/hF/wt22}
for i in $(seq 1 ${N:-4}); do for mode in pure compiled; do
  if [ $mode = pure ]; then export FOREWARN_PURE_PYTHON=1; else unset FOREWARN_PURE_PYTHON; fi
  l0=$(cut -d' ' -f1 /proc/loadavg)
  r=$(/work/main/.venv/bin/python -m streams.bench.throughput inproc --samples ${SAMPLES:-6000} 2>&1 | tail -3 | tr '\n' ' ')
  echo "pair $i $mode $(date -u +%T) load $l0-$(cut -d' ' -f1 /proc/loadavg) $r"
done; done
