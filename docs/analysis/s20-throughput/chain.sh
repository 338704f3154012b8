#!/bin/bash
# s20 (hF): run from /tmp/hF/s20 with worktrees /tmp/hF/base20 (52c730f) and /tmp/hF/wt20 (52c730f + trial.diff); copied here as run
# s20 trial chain: build the function-only subset, then Callgrind 1/2 passes base vs wt20, then identity
PY=/work/main/.venv/bin/python
MODS="processors/evidence.py processors/openwindow.py processors/pendingrows.py processors/seenset.py processors/stateformat.py processors/stateforms.py processors/batch/features.py processors/batch/outlook.py processors/batch/trend.py"
cd /tmp/hF/wt20 && echo "== build $(date -u +%T)" && /usr/bin/time -f "build: %U s user, %e s wall, %M KB" nice -n 19 $PY /tmp/hF/s20/build.py $MODS 2>&1 | grep -vE "warning|^copying|^creating|^building|^gcc|^x86_64" | tail -8
ls processors/*.so processors/batch/*.so | wc -l
echo "== smoke $(date -u +%T)"; nice -n 19 $PY /tmp/hF/s20/snap.py 2>&1 | tail -4
export N=3000
for p in 1 2; do PASSES=$p TREES="/tmp/hF/base20 /tmp/hF/wt20" /tmp/hF/s20/ir.sh; done
cd /tmp/hF/base20 && echo "== base save $(date -u +%T)" && nice -n 19 $PY -m streams.bench.identity --save /tmp/hF/s20/idbase.json 2>&1 | tail -9
cd /tmp/hF/wt20
for b in 0 64; do
  if [ $b = 0 ]; then a=""; else a="--batch $b"; fi
  echo "== wt20 batch $b $(date -u +%T)"; nice -n 19 $PY -m streams.bench.identity --check /tmp/hF/s20/idbase.json $a 2>&1 | tail -10; echo "rc $?"
done
echo "== end $(date -u +%T)"
