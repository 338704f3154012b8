"""HTTP probes for ``forewarn ship --probe NAME=URL``: each URL's status, latency and, over a
window of probes, error rate and p99 latency, as component ``<host>/<name>``."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Mapping
from typing import NamedTuple

from streams.ship.collect_base import Sample


class ProbeResult(NamedTuple):
    name: str
    ts: int
    status: int  # 0: no HTTP response (refused, timeout, DNS)
    latency_ms: float | None  # None when no response came back


def parse_probe(spec: str) -> tuple[str, str]:
    """``NAME=URL`` → (name, url); only http(s) URLs."""
    name, sep, url = spec.partition("=")
    if not sep or not name or not url.startswith(("http://", "https://")):
        raise ValueError(f"probe {spec!r}: expected NAME=http(s)://...")
    return name, url


class HttpProbes:
    """GET each URL once per collection, in a background thread so a slow endpoint never
    delays the host loop; each result is reported at the next collection, stamped with the
    time of the collection that started it.

    Per probe, component ``<host>/<name>``: ``http.status`` (0: no response),
    ``http.latency_ms``, and over the last ``window`` probes ``errors.rate`` (share with no
    response or a status >= 400) and ``latency.p99_ms`` (nearest rank; a timeout counts as
    the timeout).
    """

    def __init__(
        self,
        host: str,
        probes: Mapping[str, str],
        *,
        timeout_s: float = 2.0,
        window: int = 30,
    ) -> None:
        self.host = host
        self.probes = dict(probes)
        self.timeout_s = timeout_s
        self.skipped = 0  # rounds not started because the last one was still running
        self._windows = {name: ProbeWindow(window) for name in self.probes}
        self._done: list[ProbeResult] = []
        self._lock = threading.Lock()
        self._due: int | None = None
        self._wake = threading.Event()
        self._stop = False
        self._busy = False
        self._thread: threading.Thread | None = None

    def collect(self, ts_ms: int, mono_s: float) -> list[Sample]:
        with self._lock:
            done, self._done = self._done, []
            if self._busy or self._due is not None:
                self.skipped += 1
            else:
                self._due = ts_ms
                self._wake.set()
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="forewarn-probes",
                                            daemon=True)
            self._thread.start()
        return [self._sample(r) for r in done]

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(self.timeout_s * max(1, len(self.probes)) + 1)

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            if self._stop:
                return
            with self._lock:
                self._wake.clear()
                ts, self._due = self._due, None
                self._busy = ts is not None
            if ts is None:
                continue
            results = [self.probe(name, url, ts) for name, url in self.probes.items()]
            with self._lock:
                self._done.extend(results)
                self._busy = False

    def probe(self, name: str, url: str, ts_ms: int) -> ProbeResult:
        t0 = time.perf_counter()
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as resp:
                resp.read(65536)
                status = int(resp.status)
        except urllib.error.HTTPError as exc:
            status = int(exc.code)
            exc.close()
        except TimeoutError:
            return ProbeResult(name, ts_ms, 0, self.timeout_s * 1000.0)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            if isinstance(getattr(exc, "reason", None), TimeoutError):
                return ProbeResult(name, ts_ms, 0, self.timeout_s * 1000.0)
            return ProbeResult(name, ts_ms, 0, None)
        return ProbeResult(name, ts_ms, status, (time.perf_counter() - t0) * 1000.0)

    def _sample(self, r: ProbeResult) -> Sample:
        m = self._windows[r.name].add(r.status, r.latency_ms)
        return Sample(f"{self.host}/{r.name}", self.host, r.ts, m, {"probe": self.probes[r.name]})


class ProbeWindow:
    """The last ``size`` results of one probe, and the metrics they give.

    >>> w = ProbeWindow(4)
    >>> w.add(200, 12.0)["errors.rate"], w.add(0, None)["errors.rate"]
    (0.0, 0.5)
    """

    def __init__(self, size: int = 30) -> None:
        self._history: deque[tuple[bool, float | None]] = deque(maxlen=max(1, size))

    def add(self, status: int, latency_ms: float | None) -> dict[str, float]:
        history = self._history
        history.append((status == 0 or status >= 400, latency_ms))
        m = {"http.status": float(status),
             "errors.rate": sum(1 for bad, _ in history if bad) / len(history)}
        if latency_ms is not None:
            m["http.latency_ms"] = latency_ms
        latencies = sorted(x for _, x in history if x is not None)
        if latencies:
            rank = -(-99 * len(latencies) // 100)  # nearest rank: ceil(0.99 n), 1-based
            m["latency.p99_ms"] = latencies[rank - 1]
        return m

