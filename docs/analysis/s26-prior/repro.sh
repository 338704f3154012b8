#!/bin/sh
# Session 26 (#11): `forewarn prior learn` reproduces the shipped prior and s25's four held-out
# priors byte for byte. Run from the repository root: sh docs/analysis/s26-prior/repro.sh [OUT]
# (PYTHON defaults to .venv/bin/python; PYTHONPATH=. so a worktree runs its own code).
set -eu
OUT=${1:-/tmp/s26-prior}
PY=${PYTHON:-.venv/bin/python}
DATA=../shared/data/bitbrains/rnd
S=2013-07-15T22:00
P=docs/analysis/s25-trace-fleet/priors
mkdir -p "$OUT"
check() { cmp "$OUT/$1.json" "$2" && echo "$1: byte-identical to $2"; }
# shift the name off before passing the rest as flags
run() { n=$1; shift; PYTHONPATH=. "$PY" -m streams.cli prior learn --data "$DATA" --out "$OUT/$n.json" "$@"; }
run builtin;                   check builtin actuators/fleet_prior_bitbrains.json
run A0 --vms 1-50 --end $S;    check A0 $P/A0.json
run B0 --vms 51-100 --end $S;  check B0 $P/B0.json
run A1 --vms 1-50 --start $S;  check A1 $P/A1.json
run B1 --vms 51-100 --start $S; check B1 $P/B1.json
