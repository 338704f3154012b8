#!/bin/bash
# s26 (hT): `make test-compiled`'s steps run by hand in a worktree with another checkout's venv
# (BIN; `make` there would re-run the venv's setup when pyproject.toml is newer than its stamp):
# the build, a fresh pure identity save, the compiled checks per message and --batch 64, the
# compiled unit tests (the Makefile's COMPILED_TESTS less COMPILED_SKIP), the checkpoint digest.
#   BIN=/work/main/.venv/bin docs/analysis/s26-throughput/chk26.sh
cd "${TREE:-$(pwd)}"; export PYTHONPATH=$(pwd); BIN=${BIN:-.venv/bin}
TESTS=$(make -p -n -f Makefile nothing VENV=/nonexistent 2>/dev/null | sed -n "s/^COMPILED_TESTS = //p")
SKIP=$(make -p -n -f Makefile nothing VENV=/nonexistent 2>/dev/null | sed -n "s/^COMPILED_SKIP = //p")
echo "=== build $(date -u +%T) $(git log --oneline -1 | cut -c1-60)"
$BIN/python tools/build_native.py --jobs 2 2>&1 | grep -v "generator comprehension" | tail -2
$BIN/python -c "import processors, sys; sys.exit(processors.NATIVE is None and 'no compiled build')" || exit 1
echo "=== save pure $(date -u +%T)"; FOREWARN_PURE_PYTHON=1 $BIN/python -m streams.bench.identity --save build/identity-pure.json | tail -1
echo "=== check compiled $(date -u +%T)"; $BIN/python -m streams.bench.identity --check build/identity-pure.json | tail -1
echo "=== check compiled batch 64 $(date -u +%T)"; $BIN/python -m streams.bench.identity --check build/identity-pure.json --batch 64 | tail -1
echo "=== tests $(date -u +%T)"; $BIN/python -m pytest -q -p no:cacheprovider $TESTS -k "$SKIP" 2>&1 | tail -2
echo "=== digest $(date -u +%T)"; OPENBLAS_NUM_THREADS=1 $BIN/python docs/analysis/s24-throughput/snapbench.py --digest
echo "=== end $(date -u +%T)"
