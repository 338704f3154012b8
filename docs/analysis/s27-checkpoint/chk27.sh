#!/bin/bash
# s27 (hK): the checks of the VERSION 4 state format, in order, one job: outputs against a pure
# save (SAVE) of the base tree per message and --batch 64, pure and compiled; the compiled unit
# tests (the Makefile's COMPILED_TESTS less COMPILED_SKIP); the checkpoint digest pure and
# compiled; a snapshot's and a restore's instructions compiled (snap27.py, STATES from its
# prep); then the instructions bench (ir24.sh) in BASE and TREE, pure and compiled.
#   TREE=/work/wt/hK BASE=/work/wt/hK-base SAVE=/work/main/build/identity-pure.json \
#     STATES=/tmp/hK-states.pkl CGMARK=/tmp/hK-cgmark.so BIN=/work/main/.venv/bin chk27.sh
echo 19 > /proc/self/autogroup
BIN=${BIN:-/work/main/.venv/bin}; cd $TREE; export PYTHONPATH=$TREE OPENBLAS_NUM_THREADS=1
TESTS=$(make -p -n -f Makefile nothing VENV=/nonexistent 2>/dev/null | sed -n "s/^COMPILED_TESTS = //p")
SKIP=$(make -p -n -f Makefile nothing VENV=/nonexistent 2>/dev/null | sed -n "s/^COMPILED_SKIP = //p")
$BIN/python -c "import processors, sys; sys.exit(processors.NATIVE is None and 'no compiled build')" || exit 1
for mode in pure compiled; do
  if [ $mode = pure ]; then export FOREWARN_PURE_PYTHON=1; else unset FOREWARN_PURE_PYTHON; fi
  echo "=== identity $mode $(date -u +%T)"; $BIN/python -m streams.bench.identity --check $SAVE | tail -1
  echo "=== identity $mode batch 64 $(date -u +%T)"; $BIN/python -m streams.bench.identity --check $SAVE --batch 64 | tail -1
  echo "=== digest $mode"; $BIN/python docs/analysis/s24-throughput/snapbench.py --digest
done
echo "=== compiled tests $(date -u +%T)"; $BIN/python -m pytest -q -p no:cacheprovider $TESTS -k "$SKIP" 2>&1 | tail -2
for what in snapshot restore; do
  r=$(CGMARK=$CGMARK PYTHONHASHSEED=0 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/dev/null $BIN/python docs/analysis/s27-checkpoint/snap27.py $what $STATES --reps 4 2>&1 | grep -o "Collected : [0-9]*")
  echo "=== snap27 compiled $what $r per op $(echo $r | awk '{print int($3/200)}')"
done
for t in $BASE $TREE; do
  echo "=== ir24 $t $(date -u +%T)"; TREE=$t PY=$BIN/python bash $TREE/docs/analysis/s24-throughput/ir24.sh
done
echo "=== end $(date -u +%T)"
