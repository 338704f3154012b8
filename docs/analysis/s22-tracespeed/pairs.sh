#!/bin/bash
# Single-process CPU-seconds of `backtest trace --policy all --jobs 1` on a VM subset, two trees
# side by side in interleaved pairs (A B, B A, ...); user+sys CPU-s per run, then the medians and
# the ratio. Issue #11 speed, s22. Run at normal priority (a timing), the load printed beside.
#   bash docs/analysis/s22-tracespeed/pairs.sh TREE_A TREE_B PAIRS VM[,VM...] OUTDIR
set -eu
a=$1 b=$2 pairs=$3 vms=$4 out=$5
comps=$(echo "$vms" | sed 's#\([0-9]\+\)#2013-7/\1#g')
mkdir -p "$out"
run() {  # tree tag i
  cd "$1"
  /usr/bin/time -f "%U %S" -o "$out/$2.$3.time" /work/main/.venv/bin/python -m streams.cli \
    backtest trace --data /work/shared/data/bitbrains/rnd --components "$comps" --policy all \
    --jobs 1 --json --out "$out/$2.$3" > /dev/null
  awk -v t="$2" -v i="$3" -v l="$(cut -d' ' -f1 /proc/loadavg)" \
    '{printf "%s run %s: %.2f CPU-s (load %s)\n", t, i, $1 + $2, l}' "$out/$2.$3.time"
}
for i in $(seq 1 "$pairs"); do
  if [ $((i % 2)) -eq 1 ]; then run "$a" A "$i"; run "$b" B "$i"; else run "$b" B "$i"; run "$a" A "$i"; fi
  cmp -s "$out/A.$i/runs.json" "$out/B.$i/runs.json" && echo "pair $i: runs.json identical" \
    || echo "pair $i: runs.json DIFFERS"
done
for t in A B; do
  cat "$out"/$t.*.time | awk '{print $1 + $2}' | sort -n | awk -v t=$t '{v[NR]=$1}
    END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print t, "median", m}'
done | tee "$out/medians.txt"
awk 'NR==1{a=$3} NR==2{b=$3} END{printf "ratio B/A %.3f\n", b / a}' "$out/medians.txt"
