#!/bin/bash
# s31 (hB): the checks and counts of the label learning's row sums (docs/throughput.md
# "2026-12-07 (s31): the label learning"). TREE: the lever's worktree, built (`make compiled`,
# i.e. tools/build_native.py); BASE: a detached worktree of main's HEAD, built. OUT: results.
#   TREE=/work/wt/hB BASE=/work/wt/hB0 OUT=/tmp/hB31 labels31.sh [checks] [counts]
# checks: s28's lever28.sh without its counts (a fresh pure identity save of BASE, identity pure
#   and compiled per message and --batch 64, the digest pure and compiled, the compiled unit
#   tests); counts: steady30.sh (samples 9,000 and 12,000 of 12,000; Callgrind, compiled) on
#   BASE then TREE, each run's profile kept (stepprof30.py reads them).
BIN=${BIN:-/work/main/.venv/bin}; OUT=${OUT:-/tmp/labels31}; mkdir -p $OUT
A=$(dirname $(readlink -f $0))/..
for step in ${@:-checks counts}; do
  case $step in
    checks) TREE=$TREE BASE=$BASE OUT=$OUT NOCOUNT=1 TESTS=1 BIN=$BIN $A/s28-throughput/lever28.sh ;;
    counts)
      for t in $BASE $TREE; do
        TREE=$t PY=$BIN/python BATCHES=$OUT/steady-12000.pkl CG=$OUT/cg-$(basename $t) \
          UPTO="9000 12000" $A/s30-throughput/steady30.sh
        $BIN/python $A/s30-throughput/stepprof30.py $OUT/cg-$(basename $t) compiled 9000,12000 \
          --inclusive --top 60 > $OUT/prof-$(basename $t).txt
      done ;;
  esac
done
