#!/bin/bash
# s24 (hT): the contract line (`make bench BENCH_ARGS='worker --json'`) compiled in two trees, A (the
# baseline) and B (the change), interleaved: A B, then B A, ... (N pairs); load before and after each
# run; each run says whether its tree's build is current (processors.NATIVE). TREES="A B": two
# checkouts with a current compiled build each; OUT: the runs' outputs; UNTIL (HH:MM UTC): no run
# starts unless the last run's wall ends before it.
OUT=${OUT:-/tmp/hT/contract24}; N=${N:-2}; read -r A B <<< "${TREES:?TREES=\"A B\"}"
mkdir -p $OUT; last=0
for i in $(seq 1 $N); do
  order="$A $B"; [ $((i % 2)) = 0 ] && order="$B $A"
  for tree in $order; do
    if [ -n "$UNTIL" ] && [ $(( $(date +%s) + last )) -gt $(date -d "$UNTIL" +%s) ]; then
      echo "=== no time for $tree in pair $i before $UNTIL (last run ${last} s)"; break 2
    fi
    name=$(basename $tree); PY=$tree/.venv/bin/python; cd $tree; export PYTHONPATH=$tree
    unset FOREWARN_PURE_PYTHON
    native=$($PY -c "import processors; print(processors.NATIVE)" 2>&1 | tr '\n' ' ')
    t0=$(date +%s)
    echo "=== pair $i $name ($(git -C $tree rev-parse --short HEAD)$(git -C $tree diff --quiet HEAD -- processors || echo +changes)) native=$native start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
    /usr/bin/time -f "wall %e s, user %U s, sys %S s" $PY -m streams.bench worker --json \
      > $OUT/$name.$i.txt 2> $OUT/$name.$i.err
    rc=$?; last=$(( $(date +%s) - t0 ))
    echo "rc $rc end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg) $(tail -1 $OUT/$name.$i.err)"
    tail -1 $OUT/$name.$i.txt | $PY -c "import json,sys; d=json.loads(sys.stdin.read()); print({k: round(d[k], 3) for k in ('worker_samples_per_s','naive_samples_per_s','raw_consume_samples_per_s','ours_over_naive','ours_over_raw','inproc_samples_cpu_s','ours_samples_cpu_s','checkpoint_share') if k in d})"
  done
done
