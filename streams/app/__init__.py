"""Applications composed of the other packages: ``forewarn run`` (broker, worker, actuator,
simulated fleet and shipper in one process tree)."""
