#!/bin/bash
# s21 (hF): run from /tmp/hF/s21; worktrees /tmp/hF/wt21 (c698a11 + trial.diff, built), /tmp/hF/wt21p (the same, pure), /tmp/hF/base21 (c698a11; later the shared HEAD 45e65cb); copied here as run
# s21 (hF): after the build of /tmp/hF/wt21 (trial.diff + .so), check outputs and count instructions.
# trees: base21 = c698a11 pure; wt21p = c698a11 + trial.diff, pure; wt21 = the same, compiled.
PY=/work/main/.venv/bin/python
S=/tmp/hF/s21
cd /tmp/hF/wt21 && echo "== smoke $(date -u +%T)" && ls processors/*.so processors/batch/*.so 2>/dev/null | wc -l
nice -n 19 $PY -c "import processors.metricoutlook as m, processors.forecast as f; print(m.__file__, f.__file__)"
cd /tmp/hF/base21 && echo "== base save $(date -u +%T)" && nice -n 19 $PY -m streams.bench.identity --save $S/idbase.json 2>&1 | tail -3
for t in wt21 wt21p; do
  cd /tmp/hF/$t
  for b in 0 64; do
    if [ $b = 0 ]; then a=""; else a="--batch $b"; fi
    echo "== $t identity batch $b $(date -u +%T)"; nice -n 19 $PY -m streams.bench.identity --check $S/idbase.json $a 2>&1 | tail -10; echo "rc ${PIPESTATUS[0]}"
  done
done
for t in wt21 base21 wt21p; do cd /tmp/hF/$t; echo "== ck $t $(date -u +%T)"; nice -n 19 $PY $S/ckdigest.py 3000 2>&1 | tail -12; done
N=3000 TREES="/tmp/hF/wt21 /tmp/hF/base21 /tmp/hF/wt21p" /work/main/docs/analysis/s20-throughput/ir.sh
echo "== end $(date -u +%T)"
