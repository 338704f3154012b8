#!/bin/bash
# s21 (hF): run from /tmp/hF/s21; worktrees /tmp/hF/wt21 (c698a11 + trial.diff, built), /tmp/hF/wt21p (the same, pure), /tmp/hF/base21 (c698a11; later the shared HEAD 45e65cb); copied here as run
# s21 (hF): Callgrind profile by function and by object file of one tree (1 pass of N samples)
# usage: prof.sh TREE TAG
N=${N:-3000}
cd $1 && PYTHONHASHSEED=0 nice -n 19 valgrind --tool=callgrind --callgrind-out-file=/tmp/hF/s21/cg.$2.out /work/main/.venv/bin/python -m streams.bench.instructions --samples $N --passes 1 2>&1 | grep -E "refs"
callgrind_annotate --inclusive=no --threshold=99 /tmp/hF/s21/cg.$2.out > /tmp/hF/s21/cg.$2.self.txt
/work/main/.venv/bin/python /tmp/hF/s21/byobj.py /tmp/hF/s21/cg.$2.self.txt
