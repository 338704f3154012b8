#!/bin/bash
# s20 (hF): run from /tmp/hF/s20 with worktrees /tmp/hF/base20 (52c730f) and /tmp/hF/wt20 (52c730f + trial.diff); copied here as run
PY=/work/main/.venv/bin/python
D=$(cd "$(dirname "$0")" && pwd)
while pgrep -f /tmp/hF/s20/chain.sh >/dev/null; do sleep 5; done
for t in base20 wt20; do cd /tmp/hF/$t; echo "== ck $t $(date -u +%T)"; nice -n 19 $PY $D/ckdigest.py 3000 2>&1 | tail -12; done
for i in 1 2; do for t in base20 wt20; do cd /tmp/hF/$t; echo "== pair $i $t $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg)"; $PY -m streams.bench.throughput inproc --samples 3000 2>&1 | tail -2; echo "load end $(cut -d' ' -f1 /proc/loadavg)"; done; done
echo "== end $(date -u +%T)"
