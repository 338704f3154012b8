#!/bin/bash
# s27 (hT): the final tree's checks without a build (TREE built): a fresh pure identity save of BASE
# (main's HEAD), identity pure and compiled per message and --batch 64, the digests, the compiled
# unit tests (the Makefile's COMPILED_TESTS less COMPILED_SKIP), then Callgrind compiled and pure with
# the bench as now and with --codec-per-pass (the counts before s27).
#   TREE=/work/wt/hT2 BASE=/work/wt/hT-base2 OUT=/tmp/hT27/l2 final27.sh
echo 19 > /proc/self/autogroup
cd ${TREE:?}
TREE=$TREE BASE=${BASE:?} OUT=${OUT:-/tmp/final27} bash -c '
BIN=${BIN:-/work/main/.venv/bin}; mkdir -p $OUT
echo "=== save pure at BASE $(git -C $BASE log --oneline -1 | cut -c1-50) $(date -u +%T)"
(cd $BASE && PYTHONPATH=$BASE FOREWARN_PURE_PYTHON=1 $BIN/python -m streams.bench.identity --save $OUT/base.json | tail -1)
export PYTHONPATH=$TREE
for mode in pure compiled; do
  [ $mode = pure ] && export FOREWARN_PURE_PYTHON=1 || unset FOREWARN_PURE_PYTHON
  echo "=== $mode identity $(date -u +%T)"; $BIN/python -m streams.bench.identity --check $OUT/base.json | tail -1
  echo "=== $mode identity --batch 64 $(date -u +%T)"; $BIN/python -m streams.bench.identity --check $OUT/base.json --batch 64 | tail -1
  echo "=== $mode digest"; OPENBLAS_NUM_THREADS=1 $BIN/python docs/analysis/s24-throughput/snapbench.py --digest
done
unset FOREWARN_PURE_PYTHON
TESTS=$(make -p -n -f Makefile nothing VENV=/nonexistent 2>/dev/null | sed -n "s/^COMPILED_TESTS = //p")
SKIP=$(make -p -n -f Makefile nothing VENV=/nonexistent 2>/dev/null | sed -n "s/^COMPILED_SKIP = //p")
echo "=== compiled tests $(date -u +%T)"; $BIN/python -m pytest -q -p no:cacheprovider $TESTS -k "$SKIP" 2>&1 | tail -2
mkdir -p $OUT/new $OUT/old
OPENBLAS_NUM_THREADS=1 MODES=compiled TREE=$TREE PY=$BIN/python CG=$OUT/new docs/analysis/s24-throughput/ir24.sh
OPENBLAS_NUM_THREADS=1 MODES=compiled ARGS=--codec-per-pass TREE=$TREE PY=$BIN/python CG=$OUT/old docs/analysis/s24-throughput/ir24.sh
OPENBLAS_NUM_THREADS=1 MODES=pure TREE=$TREE PY=$BIN/python CG=$OUT/new docs/analysis/s24-throughput/ir24.sh
OPENBLAS_NUM_THREADS=1 MODES=pure ARGS=--codec-per-pass TREE=$TREE PY=$BIN/python CG=$OUT/old docs/analysis/s24-throughput/ir24.sh
'
