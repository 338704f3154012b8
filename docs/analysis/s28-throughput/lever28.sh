#!/bin/bash
# s28 (hT): one lever's checks in a worktree (TREE, built) against a fresh pure identity save
# of main's HEAD (BASE, a detached worktree): identity pure and compiled, per message and
# --batch 64; the checkpoint digest pure and compiled; Callgrind instructions per sample of
# TREE and, with COUNTBASE set (BASE built), of BASE, compiled and pure (ir24.sh, one Codec);
# with TESTS set, the compiled unit tests (the Makefile's COMPILED_TESTS less COMPILED_SKIP) on
# TREE; NOCOUNT: no counts.
#   TREE=/work/wt/hT BASE=/work/wt/hT-base OUT=/tmp/hT28/l1 lever28.sh
BIN=${BIN:-/work/main/.venv/bin}; OUT=${OUT:-/tmp/lever28}; mkdir -p $OUT
ir=$(dirname $(readlink -f $0))/../s24-throughput/ir24.sh
if [ -z "$NOSAVE" ]; then
  echo "=== save pure at BASE $(git -C $BASE log --oneline -1 | cut -c1-50) $(date -u +%T)"
  (cd $BASE && PYTHONPATH=$BASE FOREWARN_PURE_PYTHON=1 $BIN/python -m streams.bench.identity --save $OUT/base.json | tail -1)
fi
cd $TREE; export PYTHONPATH=$TREE
$BIN/python -c "import processors, sys; sys.exit(processors.NATIVE is None and 'no compiled build')" || exit 1
for mode in pure compiled; do
  [ $mode = pure ] && export FOREWARN_PURE_PYTHON=1 || unset FOREWARN_PURE_PYTHON
  echo "=== $mode identity $(date -u +%T)"; $BIN/python -m streams.bench.identity --check $OUT/base.json | tail -1
  echo "=== $mode identity --batch 64 $(date -u +%T)"; $BIN/python -m streams.bench.identity --check $OUT/base.json --batch 64 | tail -1
  echo "=== $mode digest"; OPENBLAS_NUM_THREADS=1 $BIN/python docs/analysis/s24-throughput/snapbench.py --digest
done
unset FOREWARN_PURE_PYTHON
if [ -n "$TESTS" ]; then
  T=$(make -p -n -f Makefile nothing VENV=/nonexistent 2>/dev/null | sed -n "s/^COMPILED_TESTS = //p")
  K=$(make -p -n -f Makefile nothing VENV=/nonexistent 2>/dev/null | sed -n "s/^COMPILED_SKIP = //p")
  echo "=== compiled tests $(date -u +%T)"; $BIN/python -m pytest -q -p no:cacheprovider $T -k "$K" 2>&1 | tail -2
fi
[ -n "$NOCOUNT" ] && exit 0
for t in $TREE ${COUNTBASE:+$BASE}; do
  echo "=== counts $t"
  mkdir -p $OUT/cg-$(basename $t)
  OPENBLAS_NUM_THREADS=1 MODES="${MODES:-compiled pure}" TREE=$t PY=$BIN/python CG=$OUT/cg-$(basename $t) $ir
done
