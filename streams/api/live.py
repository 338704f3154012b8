"""The live side of the read model: a thread that follows the topics into a :class:`ReadModel`,
and the writer that puts preferences and operator feedback on their topics.

The model is shared by the feed thread (writes) and the HTTP handlers (reads) under one lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from schemas.codec import Codec
from schemas.errors import BrokerError, ContractError
from streams.api.follow import Follower
from streams.api.model import ReadModel
from streams.settings import Settings
from streams.topics import events_of

log = logging.getLogger(__name__)

# catalog names the read model follows (and "metrics", for the plotted series, unless asked not)
FOLLOWED = ("risk", "health", "allocations", "outcomes", "preferences", "deadletter", "feedback")


@dataclass
class FeedStats:
    messages: int = 0
    undecodable: int = 0
    started_ms: float = field(default_factory=lambda: time.time() * 1000)
    last_message_ms: float | None = None


class LiveModel:
    """A :class:`ReadModel` behind a lock, fed from the topics by :meth:`run` (a thread)."""

    def __init__(self, settings: Settings, model: ReadModel | None = None,
                 follow_metrics: bool = True) -> None:
        self.settings = settings
        self.model = model or ReadModel()
        self.lock = threading.Lock()
        self.stats = FeedStats()
        self.codec = Codec(settings.wire_format, registry_url=settings.registry_url or None)
        names = FOLLOWED + (("metrics",) if follow_metrics else ())
        self._names = {settings.topic(n): n for n in names if _in_catalog(n)}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.error: str | None = None

    def read(self, fn: Callable[[ReadModel], Any]) -> Any:
        """``fn(model)`` under the lock."""
        with self.lock:
            return fn(self.model)

    def take(self, topic: str | None, key: bytes | None, value: bytes | None) -> None:
        """One message of a followed topic into the model (undecodable ones are counted and
        skipped: dead-lettering is the writers' job)."""
        name = None if topic is None else self._names.get(topic)
        if name is None:
            return
        self.stats.messages += 1
        self.stats.last_message_ms = time.time() * 1000
        if value is None:
            if name == "preferences" and key:
                with self.lock:
                    self.model.tombstone(key.decode(errors="replace"))
            return
        try:
            kind, rec = self.codec.decode(value, events_of(name))
        except ContractError as exc:
            self.stats.undecodable += 1
            log.debug("%s: undecodable message skipped: %s", topic, exc)
            return
        with self.lock:
            self.model.apply(kind, rec)

    def run(self, follower: Follower | None = None) -> None:
        """Follow until :meth:`stop`; a broker that goes away is retried, never fatal."""
        try:
            follower = follower or Follower(self.settings, list(self._names))
        except Exception as exc:  # KafkaException from the client's constructor
            self.error = f"cannot follow topics: {exc}"
            log.error("%s", self.error)
            return
        try:
            while not self._stop.is_set():
                for msg in follower.poll(0.2):
                    self.take(msg.topic(), msg.key(), msg.value())
        finally:
            follower.close()

    def start(self) -> LiveModel:
        self._thread = threading.Thread(target=self.run, name="api-feed", daemon=True)
        self._thread.start()
        return self

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)


def _in_catalog(name: str) -> bool:
    try:
        events_of(name)
    except KeyError:
        return False
    return True


class TopicWriter:
    """Produces preferences (compacted, keyed by selector) and feedback (keyed by component)."""

    def __init__(self, settings: Settings, codec: Codec | None = None) -> None:
        from confluent_kafka import Producer

        from streams.topics import producer_config

        self.settings = settings
        self.codec = codec or Codec(settings.wire_format,
                                    registry_url=settings.registry_url or None)
        self.producer = Producer(producer_config(settings))
        self.lock = threading.Lock()

    def _produce(self, name: str, key: str, event_type: str | None,
                 record: dict[str, Any] | None, timeout_s: float = 15.0) -> None:
        topic = self.settings.topic(name)
        value = None if record is None or event_type is None else self.codec.encode(
            event_type, record, topic=topic)
        with self.lock:
            self.producer.produce(topic, key=key.encode(), value=value)
            if self.producer.flush(timeout_s) > 0:
                raise BrokerError(f"could not deliver to {topic} within {timeout_s:g} s")

    def put_preference(self, record: dict[str, Any]) -> None:
        self._produce("preferences", record["selector"], "Preference", record)

    def delete_preference(self, selector: str) -> None:
        self._produce("preferences", selector, None, None)

    def feedback(self, record: dict[str, Any]) -> None:
        self._produce("feedback", record["component"], "Feedback", record)

    def close(self) -> None:
        self.producer.flush(5)
        self.producer.close()  # now, not when collected (its broker may be gone by then)


class NoWriter:
    """The writer of an API that only reads (the OpenAPI document, the read benchmark): a
    write is answered 503, as when the broker is away."""

    def _refuse(self) -> None:
        raise BrokerError("this API writes nothing: it has no topic writer")

    def put_preference(self, record: dict[str, Any]) -> None:
        self._refuse()

    def delete_preference(self, selector: str) -> None:
        self._refuse()

    def feedback(self, record: dict[str, Any]) -> None:
        self._refuse()
