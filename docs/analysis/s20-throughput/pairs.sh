#!/bin/bash
# s20 (hF): run from /tmp/hF/s20 with worktrees /tmp/hF/base20 (52c730f) and /tmp/hF/wt20 (52c730f + trial.diff); copied here as run
PY=/work/main/.venv/bin/python
for i in 1 2 3 4 5 6; do for t in base20 wt20; do cd /tmp/hF/$t; l0=$(cut -d' ' -f1 /proc/loadavg); r=$($PY -m streams.bench.throughput inproc --samples 6000 2>&1 | tail -1 | grep -o "^poll *[0-9]*: *[0-9.]* µs"); echo "pair $i $t $(date -u +%T) load $l0-$(cut -d' ' -f1 /proc/loadavg) $r"; done; done
