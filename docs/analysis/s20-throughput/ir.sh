#!/bin/bash
# s20 (hF): run from /tmp/hF/s20 with worktrees /tmp/hF/base20 (52c730f) and /tmp/hF/wt20 (52c730f + trial.diff); copied here as run
# instructions per sample: callgrind I refs of 1 and 2 passes, per tree (dirs); FOREWARN env passes through
N=${N:-6000}
for t in $TREES; do
  for p in ${PASSES:-1 2}; do
    cd $t
    echo "=== $t passes $p $(date -u +%H:%M:%S)"
    PYTHONHASHSEED=0 nice -n 19 valgrind --tool=callgrind --callgrind-out-file=/dev/null /work/main/.venv/bin/python -m streams.bench.instructions --samples $N --passes $p 2>&1 | grep -E "passes of|refs|Error|error"
  done
done
echo "=== end $(date -u +%H:%M:%S)"
