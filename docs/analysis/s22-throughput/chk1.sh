#!/bin/bash
# s22 (hF): the port's pure tree (chk22) against HEAD 9e00cb3 (base22): identity per message and --batch 64, checkpoint digests
PY=/work/main/.venv/bin/python
S=/tmp/hF/s22
cd /tmp/hF/base22 && echo "== base save $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" && nice -n 19 $PY -m streams.bench.identity --save $S/idbase.json 2>&1 | tail -3
cd /tmp/hF/chk22
for b in 0 64; do
  echo "== chk22 identity batch $b $(date -u +%T)"; nice -n 19 $PY -m streams.bench.identity --check $S/idbase.json --batch $b 2>&1 | tail -10; echo "rc ${PIPESTATUS[0]}"
done
for t in base22 chk22; do cd /tmp/hF/$t; echo "== ck $t $(date -u +%T)"; nice -n 19 $PY $S/ckdigest.py 3000 > $S/ck.$t.txt 2>&1; tail -12 $S/ck.$t.txt; done
cmp <(grep -v "^==" $S/ck.base22.txt) <(grep -v "^==" $S/ck.chk22.txt) && echo "CK EQUAL"
echo "== end $(date -u +%T)"
