#!/bin/bash
# s23 (hT): the contract line (`make bench BENCH_ARGS='worker --json'`), pure (FOREWARN_PURE_PYTHON=1)
# then compiled (build/native) in each pair, N pairs, in one tree; load before and after each run.
# TREE: a checkout with a current `make compiled` build; OUT: where the runs' outputs go;
# UNTIL (HH:MM UTC): no pair starts unless twice the last run's wall ends before it.
TREE=${TREE:-$(pwd)}; OUT=${OUT:-/tmp/hT/contract}; N=${N:-2}; PY=${PY:-$TREE/.venv/bin/python}
mkdir -p $OUT; cd $TREE; export PYTHONPATH=$TREE
last=0
for i in $(seq 1 $N); do
  if [ -n "$UNTIL" ] && [ $(( $(date +%s) + 2 * last )) -gt $(date -d "$UNTIL" +%s) ]; then
    echo "=== no time for pair $i before $UNTIL (last run ${last} s)"; break
  fi
  for mode in ${MODES:-pure compiled}; do
    if [ $mode = pure ]; then export FOREWARN_PURE_PYTHON=1; else unset FOREWARN_PURE_PYTHON; fi
    native=$($PY -c "import processors; print(processors.NATIVE)" 2>&1 | tr '\n' ' ')
    t0=$(date +%s)
    echo "=== pair $i $mode native=$native start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
    /usr/bin/time -f "wall %e s, user %U s, sys %S s" $PY -m streams.bench worker --json \
      > $OUT/$mode.$i.txt 2> $OUT/$mode.$i.err
    rc=$?; last=$(( $(date +%s) - t0 ))
    echo "rc $rc end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg) $(tail -1 $OUT/$mode.$i.err)"
    tail -1 $OUT/$mode.$i.txt | $PY -c "import json,sys; d=json.loads(sys.stdin.read()); print({k: round(d[k], 3) for k in ('worker_samples_per_s','naive_samples_per_s','raw_consume_samples_per_s','ours_over_naive','ours_over_raw','inproc_samples_cpu_s','ours_samples_cpu_s','state_bytes_per_component')})"
  done
done
