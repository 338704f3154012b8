#!/bin/bash
# s21 (hF): blocker (e) patched in the trial (PendingLabels.items: Any), rebuild, checkpoint digests, identity, profile
PY=/work/main/.venv/bin/python
S=/tmp/hF/s21
while pgrep -f "final.sh$" >/dev/null; do sleep 3; done
cd /tmp/hF/wt21 && git diff > $S/trial2.diff && echo "== rebuild $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg)"
/usr/bin/time -f "build: %U s user, %S s sys, %e s wall, %M KB" nice -n 19 $PY $S/build.py $(cat $S/mods.txt) 2>&1 | grep -E "^build:|built in|error" | tail -5
echo "== ck wt21 $(date -u +%T)"; nice -n 19 $PY $S/ckdigest.py 3000 2>&1 | tail -12
echo "== identity wt21 $(date -u +%T)"; nice -n 19 $PY -m streams.bench.identity --check $S/idbase.json 2>&1 | tail -1
echo "== prof $(date -u +%T)"; N=3000 $S/prof.sh /tmp/hF/wt21 compiled 2>&1 | head -60
echo "== end $(date -u +%T)"
