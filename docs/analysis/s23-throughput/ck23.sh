#!/bin/bash
# s23 (hT): checkpoint digests (s20's ckdigest.py: every checkpoint of the fleet data, polls of 1
# and 64, the mixed scenario's snapshots, park/unpark runs), pure then compiled, in one tree.
TREE=${TREE:-$(pwd)}; PY=${PY:-$TREE/.venv/bin/python}; OUT=${OUT:-/tmp/hT/ck}; N=${SAMPLES:-3000}
mkdir -p $OUT; cd $TREE; export PYTHONPATH=$TREE
for mode in pure compiled; do
  if [ $mode = pure ]; then export FOREWARN_PURE_PYTHON=1; else unset FOREWARN_PURE_PYTHON; fi
  echo "== ck $mode $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg) native $($PY -c 'import processors; print(processors.NATIVE)')"
  $PY docs/analysis/s20-throughput/ckdigest.py $N > $OUT/ck.$mode.txt 2>&1; echo "rc $?"; tail -12 $OUT/ck.$mode.txt
done
cmp <(grep -v "^==" $OUT/ck.pure.txt) <(grep -v "^==" $OUT/ck.compiled.txt) && echo "CK EQUAL"
echo "== end $(date -u +%T)"
