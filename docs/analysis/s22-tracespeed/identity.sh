#!/bin/bash
# Byte identity of the trace command's outputs (issue #11 speed, s22): run TREE's
#   backtest trace --policy all --jobs 1 --json --out OUT/TAG [--components C]
# (nice 19: not a timing) and cmp trace.json, runs.json, index.html and stdout with REF
# (a directory of the same files from the reference tree).
#   bash docs/analysis/s22-tracespeed/identity.sh TREE REF OUT TAG [VM,VM,...]
set -u
tree=$1 ref=$2 out=$3/$4 vms=${5:-}
args=()
[ -n "$vms" ] && args=(--components "$(echo "$vms" | sed 's#\([0-9]\+\)#2013-7/\1#g')")
rm -rf "$out"; mkdir -p "$out"
cd "$tree" && nice -n 19 /work/main/.venv/bin/python -m streams.cli backtest trace \
  --data /work/shared/data/bitbrains/rnd "${args[@]}" --policy all --jobs 1 --json \
  --out "$out" > "$out/stdout"
for f in trace.json runs.json index.html stdout; do
  cmp -s "$out/$f" "$ref/$f" && echo "$f identical" || echo "$f DIFFERS"
done
