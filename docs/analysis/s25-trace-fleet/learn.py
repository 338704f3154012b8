"""Learn a fleet prior (actuators/fleetprior.py) from training VMs' memory over a window.

python docs/analysis/s25-trace-fleet/learn.py OUT.json VMS [--start T] [--end T]
(VMS: A-B, the training VMs; the window as the trace command's --start / --end. Each VM's
forewarn forecasters run cold from the window's start, as the command runs them, recording
every outcome's bucket; a VM weighs 1; VMs with no memory demand are left out.)

Since session 26 the same as `forewarn prior learn --data DATA --out OUT.json --vms A-B
[--start T] [--end T]` (streams/cli/prior.py, one implementation: this calls it)."""
import sys

from streams.cli.commands import main

DATA = "/work/shared/data/bitbrains/rnd"

if __name__ == "__main__":
    argv = sys.argv[1:]
    sys.exit(main(["prior", "learn", "--data", DATA, "--out", argv[0], "--vms", argv[1],
                   *argv[2:]]))
