"""Publishing a simulated fleet to ``forewarn.metrics`` (``forewarn simulate``, ``forewarn run``).

Samples go out as ``MetricBatch`` messages keyed by component (several samples per message:
Tansu's consume rate is per message, so batching is the throughput lever).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from schemas.codec import Codec
from streams.settings import Settings
from streams.sim.simulator import Fleet, scenario, to_batches, write_ground_truth
from streams.topics import ensure_topics, producer_config

log = logging.getLogger(__name__)


class FleetPublisher:
    """Steps a fleet in event time and publishes its samples.

    ``speed`` is simulated seconds per wall second (0: as fast as possible, ``per_message``
    steps per batch); with a speed, each step is published as it is made.
    """

    def __init__(
        self,
        settings: Settings,
        fleet: Fleet,
        *,
        speed: float = 0.0,
        per_message: int = 30,
        lock: threading.Lock | None = None,
    ) -> None:
        self.settings = settings
        self.fleet = fleet
        self.speed = speed
        self.per_message = per_message if speed <= 0 else 1
        self.lock = lock or threading.Lock()
        self.codec = Codec(settings.wire_format, registry_url=settings.registry_url or None)
        self.producer = Producer(producer_config(settings, {"linger.ms": 20}))
        self.topic = settings.topic("metrics")
        self.samples = 0

    def _publish(self, samples: list[dict[str, Any]]) -> None:
        for batch in to_batches(samples, self.per_message):
            value = self.codec.encode("MetricBatch", batch, topic=self.topic)
            # Message time = event time of the batch's first sample, so a replay of a time
            # range (offsets_for_times) selects by event time.
            self.producer.produce(self.topic, key=batch["component"].encode(), value=value,
                                  timestamp=int(batch["points"][0]["ts"]))
        self.samples += len(samples)
        self.producer.poll(0)

    def run(self, stop: threading.Event | None = None) -> None:
        stop = stop or threading.Event()
        step_s = self.fleet.scenario.step_s
        pending: list[dict[str, Any]] = []
        started = time.monotonic()
        steps = 0
        while not stop.is_set():
            with self.lock:
                if self.fleet.done():
                    break
                pending.extend(self.fleet.step())
            steps += 1
            if self.speed > 0:
                self._publish(pending)
                pending = []
                due = started + steps * step_s / self.speed
                stop.wait(max(0.0, due - time.monotonic()))
            elif steps % self.per_message == 0:
                self._publish(pending)
                pending = []
        if pending:
            self._publish(pending)
        self.producer.flush(30)


def simulate_to_kafka(
    settings: Settings, name: str, *, seed: int = 42, speed: float = 0.0, out: str | None = None
) -> int:
    ensure_topics(settings)
    fleet = Fleet(scenario(name, seed=seed))
    pub = FleetPublisher(settings, fleet, speed=speed)
    t0 = time.monotonic()
    try:
        pub.run()
    except KeyboardInterrupt:
        pub.producer.flush(30)
    dt = time.monotonic() - t0
    print(f"published {pub.samples} samples of scenario {name!r} (seed {seed}) in {dt:.1f} s")
    if out:
        path = Path(out) / f"{name}-{seed}.truth.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_ground_truth(fleet, path)
        print(f"ground truth: {path}")
    return 0
