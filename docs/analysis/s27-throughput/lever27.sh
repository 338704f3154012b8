#!/bin/bash
# s27 (hT): one lever's checks in a worktree (TREE) against a fresh pure identity save of
# another tree (BASE, main's HEAD): the build, identity pure and compiled per message and
# --batch 64, the checkpoint digest, Callgrind instructions per sample compiled and pure.
#   TREE=/work/wt/hT BASE=/work/wt/hT-base BIN=/work/main/.venv/bin OUT=/tmp/hT27/l1 lever27.sh
BIN=${BIN:-/work/main/.venv/bin}; OUT=${OUT:-/tmp/lever27}; mkdir -p $OUT
ir=$(dirname $(readlink -f $0))/../s24-throughput/ir24.sh
if [ -z "$NOSAVE" ]; then
  echo "=== save pure at BASE $(git -C $BASE log --oneline -1 | cut -c1-50) $(date -u +%T)"
  (cd $BASE && PYTHONPATH=$BASE FOREWARN_PURE_PYTHON=1 $BIN/python -m streams.bench.identity --save $OUT/base.json | tail -1)
fi
cd $TREE; export PYTHONPATH=$TREE
if [ -z "$NOBUILD" ]; then
  echo "=== build $(date -u +%T)"; $BIN/python tools/build_native.py --jobs 2 2>&1 | grep -v "generator comprehension" | tail -2
fi
$BIN/python -c "import processors, sys; sys.exit(processors.NATIVE is None and 'no compiled build')" || exit 1
for mode in pure compiled; do
  [ $mode = pure ] && export FOREWARN_PURE_PYTHON=1 || unset FOREWARN_PURE_PYTHON
  echo "=== $mode identity $(date -u +%T)"; $BIN/python -m streams.bench.identity --check $OUT/base.json | tail -1
  echo "=== $mode identity --batch 64 $(date -u +%T)"; $BIN/python -m streams.bench.identity --check $OUT/base.json --batch 64 | tail -1
  echo "=== $mode digest"; OPENBLAS_NUM_THREADS=1 $BIN/python docs/analysis/s24-throughput/snapbench.py --digest
done
unset FOREWARN_PURE_PYTHON
OPENBLAS_NUM_THREADS=1 MODES="compiled pure" TREE=$TREE PY=$BIN/python CG=$OUT $ir
