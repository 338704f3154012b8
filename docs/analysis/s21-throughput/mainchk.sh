#!/bin/bash
# s21 (hF): run from /tmp/hF/s21; worktrees /tmp/hF/wt21 (c698a11 + trial.diff, built), /tmp/hF/wt21p (the same, pure), /tmp/hF/base21 (c698a11; later the shared HEAD 45e65cb); copied here as run
# s21 (hF): ckdigest of the compiled tree in full, then main's identity against its HEAD (base21), then tests
PY=/work/main/.venv/bin/python
S=/tmp/hF/s21
while pgrep -f "chain3.sh$" >/dev/null; do sleep 3; done
cd /tmp/hF/wt21 && echo "== ck wt21 $(date -u +%T)" && nice -n 19 $PY $S/ckdigest.py 3000 2>&1 | grep -v unreadable | tail -12
cd /tmp/hF/base21 && echo "== base save (main HEAD) $(date -u +%T)" && nice -n 19 $PY -m streams.bench.identity --save $S/idmain.json 2>&1 | tail -1
cd /work/main
for b in 0 64; do
  if [ $b = 0 ]; then a=""; else a="--batch $b"; fi
  echo "== main identity batch $b $(date -u +%T)"; nice -n 19 $PY -m streams.bench.identity --check $S/idmain.json $a 2>&1 | tail -2; echo "rc ${PIPESTATUS[0]}"
done
echo "== main unit tests $(date -u +%T)"
nice -n 19 $PY -m pytest -q -p no:cacheprovider tests/unit/test_batch_trend.py tests/unit/test_pagehinkley.py tests/unit/test_state_format.py tests/unit/test_state_encode.py tests/unit/test_state_compact.py tests/unit/test_sharedparams.py tests/unit/test_outlook.py tests/unit/test_checkpoint.py tests/unit/test_layout.py 2>&1 | tail -3
echo "== end $(date -u +%T)"
