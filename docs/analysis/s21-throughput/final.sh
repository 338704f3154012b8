#!/bin/bash
# s21 (hF): run from /tmp/hF/s21; worktrees /tmp/hF/wt21 (c698a11 + trial.diff, built), /tmp/hF/wt21p (the same, pure), /tmp/hF/base21 (c698a11; later the shared HEAD 45e65cb); copied here as run
PY=/work/main/.venv/bin/python
S=/tmp/hF/s21
while pgrep -f "mainchk.sh$" >/dev/null; do sleep 3; done
for t in /tmp/hF/base21 /work/main; do cd $t; echo "== ck $t $(date -u +%T)"; nice -n 19 $PY $S/ckdigest.py 3000 2>&1 | tail -10; done
cd /work/main && echo "== make test $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg)" && nice -n 19 make test 2>&1 | tail -8
echo "== end $(date -u +%T)"
