#!/bin/bash
# s21 (hF): run from /tmp/hF/s21; worktrees /tmp/hF/wt21 (c698a11 + trial.diff, built), /tmp/hF/wt21p (the same, pure), /tmp/hF/base21 (c698a11; later the shared HEAD 45e65cb); copied here as run
# s21 (hF): the counts first (compiled wt21, base21, wt21p), then checkpoint digests, then wt21p --batch 64
PY=/work/main/.venv/bin/python
S=/tmp/hF/s21
N=3000 TREES="/tmp/hF/wt21 /tmp/hF/base21 /tmp/hF/wt21p" /work/main/docs/analysis/s20-throughput/ir.sh
for t in wt21 base21 wt21p; do cd /tmp/hF/$t; echo "== ck $t $(date -u +%T)"; nice -n 19 $PY $S/ckdigest.py 3000 2>&1 | tail -12; done
cd /tmp/hF/wt21p && echo "== wt21p identity batch 64 $(date -u +%T)"; nice -n 19 $PY -m streams.bench.identity --check $S/idbase.json --batch 64 2>&1 | tail -2; echo "rc ${PIPESTATUS[0]}"
echo "== end $(date -u +%T)"
