"""The Kafka runtime: the worker (Faust), the actuator, checkpoints, the embedded broker, acted
intervals, the preferences topic and the ingest loop. Imports the seams and the pure core; never
``streams.lab``, ``streams.bench``, ``streams.sim``, ``streams.app`` or ``streams.cli``."""
