#!/bin/bash
# s31 (hB): micro31.py under Callgrind, rounds R and 0, in each TREES' tree, MODES (compiled: the
# tree's build; pure: FOREWARN_PURE_PYTHON=1): instructions a round = (I(R) - I(0)) / R.
#   TREES="/work/wt/hB0 /work/wt/hB" micro31.sh
PY=${PY:-/work/main/.venv/bin/python}; R=${ROUNDS:-3000}; M=$(readlink -f $(dirname $0))/micro31.py
export OPENBLAS_NUM_THREADS=1 PYTHONHASHSEED=0
for t in ${TREES}; do for mode in ${MODES:-compiled pure}; do
  if [ $mode = pure ]; then export FOREWARN_PURE_PYTHON=1; else unset FOREWARN_PURE_PYTHON; fi
  cd $t; export PYTHONPATH=$t
  echo "=== $t $mode $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- processors || echo +changes) native: $($PY -c 'import processors; print(processors.NATIVE)')"
  a=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null $PY $M --rounds 0 2>&1 | sed -n 's/.*I *refs: *//p' | tr -d ,)
  b=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null $PY $M --rounds $R 2>&1 | sed -n 's/.*I *refs: *//p' | tr -d ,)
  echo "rounds 0: $a; rounds $R: $b; a round: $(( (b - a) / R ))"
done; done
