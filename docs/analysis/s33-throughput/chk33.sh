#!/bin/bash
# s33 (hB): the checks of the admit levers (rule (1), (2), (5), docs/throughput.md s33): s32's
# chk32.sh (the digests, the unit tests, identity per message and --batch 64 against BASE) with
# processors/validate.py's doctests added to its pure run.
#   BASE=/tmp/hB32/base-pure.json MODES="compiled pure" docs/analysis/s33-throughput/chk33.sh
EXTRA_DOCTESTS="processors/validate.py ${EXTRA_DOCTESTS:-}" \
    exec "$(dirname "$0")/../s32-throughput-admit/chk32.sh" "$@"
