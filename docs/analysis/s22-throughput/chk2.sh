#!/bin/bash
# s22 (hF): the compiled build of wt22 (8a0a0e1 + build/native) against HEAD 9e00cb3's digests: identity per message and --batch 64, checkpoint digests, unit tests
PY=/work/main/.venv/bin/python
S=/tmp/hF/s22
cd /tmp/hF/wt22
$PY -c "import processors; assert processors.NATIVE; print('native', processors.NATIVE)"
for b in 0 64; do
  echo "== compiled identity batch $b $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"; nice -n 19 $PY -m streams.bench.identity --check $S/idbase.json --batch $b 2>&1 | tail -10; echo "rc ${PIPESTATUS[0]}"
done
echo "== ck compiled $(date -u +%T)"; nice -n 19 $PY $S/ckdigest.py 3000 > $S/ck.compiled.txt 2>&1; tail -12 $S/ck.compiled.txt
cmp <(grep -v "^==" $S/ck.base22.txt) <(grep -v "^==" $S/ck.compiled.txt) && echo "CK EQUAL"
echo "== unit tests compiled $(date -u +%T)"
nice -n 19 $PY -m pytest -q -p no:cacheprovider tests/unit/test_state_format.py tests/unit/test_state_compact.py tests/unit/test_state_encode.py tests/unit/test_checkpoint.py tests/unit/test_sharedparams.py tests/unit/test_outlook.py tests/unit/test_batch_outlook.py tests/unit/test_batch_trend.py tests/unit/test_univariate.py tests/unit/test_anomaly.py tests/unit/test_detectors.py tests/unit/test_pagehinkley.py tests/unit/test_forecastrecord.py tests/unit/test_worker_checkpoint_order.py tests/unit/test_risk_learning.py tests/unit/test_multivariate.py tests/unit/test_state_memory.py 2>&1 | tail -40
echo "== end $(date -u +%T)"
