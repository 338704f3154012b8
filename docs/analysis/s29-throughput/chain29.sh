#!/bin/bash
# s29 (hT): one lever's chain in a worktree: build TREE, then s28's lever28.sh (identity pure and
# compiled against a fresh pure save of BASE, digests, the compiled tests, the counts of TREE),
# then, with BASEPURE set, BASE's pure count (ir24.sh; BASE needs no build for that).
#   TREE=/work/wt/hT BASE=/work/wt/hT-base OUT=/tmp/hT29/l1 TESTS=1 BASEPURE=1 chain29.sh
BIN=${BIN:-/work/main/.venv/bin}; here=$(dirname $(readlink -f $0))
echo "=== build $TREE $(date -u +%T)"
(cd $TREE && PYTHONPATH=$TREE $BIN/python tools/build_native.py --jobs 2 > $OUT.build.log 2>&1; echo "build rc $?")
bash $here/../s28-throughput/lever28.sh
if [ -n "$BASEPURE" ]; then
  mkdir -p $OUT/cg-base
  OPENBLAS_NUM_THREADS=1 MODES=pure TREE=$BASE PY=$BIN/python CG=$OUT/cg-base $here/../s24-throughput/ir24.sh
fi
echo "=== chain end $(date -u +%T)"
