#!/bin/bash
# s30 (hT): a lever bundle's chain, one heavy job at a time: wait for WAIT (a pid) to end; build
# TREE; its steady-state counts (steady30.sh, UPTO); s28's lever28.sh without counts (identity pure
# and compiled against a fresh pure save of BASE, digests, compiled tests); BASE's pure digest;
# then TREE's ir24.sh counts, compiled and pure.
#   WAIT=123 TREE=/work/wt/hTL BASE=/work/wt/hT OUT=/tmp/hT30/l chain30.sh
BIN=${BIN:-/work/main/.venv/bin}; here=$(dirname $(readlink -f $0))
[ -n "$WAIT" ] && while kill -0 $WAIT 2>/dev/null; do sleep 10; done
mkdir -p $OUT
echo "=== build $TREE $(date -u +%T)"
(cd $TREE && PYTHONPATH=$TREE $BIN/python tools/build_native.py --jobs 2 > $OUT/build.log 2>&1; echo "build rc $?")
echo "=== steady $(date -u +%T)"
TREE=$TREE CG=$OUT/cg-steady UPTO="${UPTO:-9000 12000}" bash $here/steady30.sh
echo "=== lever28 $(date -u +%T)"
TREE=$TREE BASE=$BASE OUT=$OUT TESTS=1 NOCOUNT=1 bash $here/../s28-throughput/lever28.sh
echo "=== base digest pure $(date -u +%T)"
(cd $BASE && PYTHONPATH=$BASE FOREWARN_PURE_PYTHON=1 OPENBLAS_NUM_THREADS=1 $BIN/python docs/analysis/s24-throughput/snapbench.py --digest)
echo "=== ir24 $(date -u +%T)"
mkdir -p $OUT/cg-ir24
OPENBLAS_NUM_THREADS=1 MODES="compiled pure" TREE=$TREE PY=$BIN/python CG=$OUT/cg-ir24 bash $here/../s24-throughput/ir24.sh
echo "=== chain end $(date -u +%T)"
