"""An Apache Kafka 4.x KRaft cluster on loopback, from the jars ``deploy/kafka/pom.xml`` fetches.

Each node is a combined broker+controller JVM (``kafka.Kafka``) with its own client port,
controller port, log dir and heap cap, formatted first with ``kafka.tools.StorageTool``. The
harness waits until every broker is in the cluster metadata, stops each node by its PID, and can
``kill -9``, pause (SIGSTOP), resume and restart one node for fault tests.

    python -m tests.kafka_harness --nodes 3        # `make kafka`: start, print bootstrap, wait
    python -m tests.kafka_harness --fetch-only     # just run Maven

In tests::

    with KafkaCluster(nodes=3) as cluster:
        cluster.bootstrap_servers          # "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3"
        cluster.kill(cluster.leader_of("t.metrics", 0))

Where java or mvn is missing, or Maven cannot fetch the jars, :class:`HarnessUnavailable` says
why; the test fixture turns that into a skip with the reason, and ``make test-kafka`` fails.
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
KAFKA_DIR = REPO / "deploy" / "kafka"
LIB = KAFKA_DIR / "lib"
DEFAULT_HEAP = "512m"

LOG4J2 = """\
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = out
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = info
logger.controller.name = org.apache.kafka.controller
logger.controller.level = warn
"""


class HarnessUnavailable(RuntimeError):
    """Java, Maven or the Kafka jars are missing; the message says which and how to fix it."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL it when the process that started it dies, however
    it dies (a test run aborted by a C extension, kill -9), so no broker outlives its owner.
    Linux only (prctl PR_SET_PDEATHSIG); elsewhere nothing."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def lib_ready() -> bool:
    return any(LIB.glob("kafka_2.13-4.*.jar")) and any(LIB.glob("kafka-clients-4.*.jar"))


def unavailable_reason() -> str | None:
    """Why the Apache Kafka suite cannot run here (None: it can), without fetching anything."""
    if shutil.which("java") is None:
        return "no `java` on PATH (install a JDK 17, e.g. apt-get install openjdk-17-jre-headless)"
    if not lib_ready() and shutil.which("mvn") is None:
        return (f"no `mvn` on PATH to fetch the broker jars into {LIB} "
                "(install Maven, e.g. apt-get install maven)")
    return None


def fetch(quiet: bool = True) -> Path:
    """The folder of broker jars, running Maven first if it is empty."""
    if shutil.which("java") is None:
        raise HarnessUnavailable(
            "Apache Kafka suite not run: no `java` on PATH (install a JDK 17, "
            "e.g. apt-get install openjdk-17-jre-headless)"
        )
    if lib_ready():
        return LIB
    mvn = shutil.which("mvn")
    if mvn is None:
        raise HarnessUnavailable(
            f"Apache Kafka suite not run: no `mvn` on PATH to fetch the broker jars into {LIB} "
            "(install Maven, e.g. apt-get install maven)"
        )
    cmd = [mvn, "-B", "-f", str(KAFKA_DIR / "pom.xml"), "dependency:copy-dependencies"]
    if quiet:
        cmd.insert(1, "-q")
    res = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if res.returncode != 0 or not lib_ready():
        tail = (res.stdout + res.stderr).strip().splitlines()[-5:]
        raise HarnessUnavailable(
            f"Apache Kafka suite not run: `{' '.join(cmd)}` failed (exit {res.returncode}): "
            + " | ".join(tail)
        )
    return LIB


def random_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (22 chars), never
    starting with "-" (as Kafka's own ``Uuid.randomUuid``: ``kafka-storage format -t -x...``
    reads such an id as an option and fails; it did once in 64 cluster starts in CI)."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


@dataclass
class KafkaNode:
    """One combined broker+controller process."""

    node_id: int
    port: int
    controller_port: int
    dir: Path
    extra_ports: dict[str, int] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def log_dir(self) -> Path:
        return self.dir / "data"

    @property
    def properties(self) -> Path:
        return self.dir / "server.properties"

    @property
    def log_path(self) -> Path:
        return self.dir / "server.log"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class KafkaCluster:
    """``nodes`` KRaft nodes on 127.0.0.1, each broker and controller (a static voter set).

    ``broker_config`` adds or overrides server properties on every node. ``extra_listeners``
    maps a listener name to its security protocol (e.g. ``{"SECURE": "SASL_SSL"}``); each node
    gets a port for it, :meth:`bootstrap` gives its bootstrap list, and the properties it needs
    (``listener.name.secure.*``, ``sasl.enabled.mechanisms`` ...) come in ``broker_config``.
    ``format_args`` is appended to ``StorageTool format`` (e.g. ``["--add-scram",
    "SCRAM-SHA-256=[name=alice,password=s3cret]"]``). ``admin_config`` is the librdkafka
    configuration the readiness check and :meth:`leader_of` use (default: PLAINTEXT listener).
    """

    def __init__(
        self,
        nodes: int = 3,
        base_dir: str | os.PathLike[str] | None = None,
        heap: str = DEFAULT_HEAP,
        broker_config: Mapping[str, object] | None = None,
        extra_listeners: Mapping[str, str] | None = None,
        format_args: Sequence[str] = (),
        jvm_opts: Sequence[str] = (),
        admin_config: Mapping[str, object] | None = None,
    ) -> None:
        if nodes < 1:
            raise ValueError("nodes must be at least 1")
        self.n = nodes
        self.heap = heap
        self.broker_config = {k: str(v) for k, v in (broker_config or {}).items()}
        self.extra_listeners = dict(extra_listeners or {})
        self.format_args = list(format_args)
        self.jvm_opts = list(jvm_opts)
        self._own_dir = base_dir is None
        self.base_dir = Path(base_dir or tempfile.mkdtemp(prefix="forewarn-kafka-"))
        self.cluster_id = random_cluster_id()
        self.nodes: list[KafkaNode] = []
        for i in range(1, nodes + 1):
            d = self.base_dir / f"node{i}"
            extra = {name: free_port() for name in self.extra_listeners}
            self.nodes.append(KafkaNode(i, free_port(), free_port(), d, extra))
        self._admin_config = dict(admin_config or {})
        self._formatted = False

    # ---- addresses -------------------------------------------------------------------------

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    def bootstrap(self, listener: str) -> str:
        """The bootstrap list of an extra listener."""
        return ",".join(f"127.0.0.1:{n.extra_ports[listener]}" for n in self.nodes)

    def node(self, node_id: int) -> KafkaNode:
        return self.nodes[node_id - 1]

    # ---- configuration ---------------------------------------------------------------------

    def _properties(self, node: KafkaNode) -> dict[str, str]:
        rf = str(min(3, self.n))
        voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in self.nodes)
        listeners = [f"PLAINTEXT://127.0.0.1:{node.port}",
                     f"CONTROLLER://127.0.0.1:{node.controller_port}"]
        advertised = [f"PLAINTEXT://127.0.0.1:{node.port}"]
        protocols = ["PLAINTEXT:PLAINTEXT", "CONTROLLER:PLAINTEXT"]
        for name, proto in self.extra_listeners.items():
            listeners.append(f"{name}://127.0.0.1:{node.extra_ports[name]}")
            advertised.append(f"{name}://127.0.0.1:{node.extra_ports[name]}")
            protocols.append(f"{name}:{proto}")
        props = {
            "process.roles": "broker,controller",
            "node.id": str(node.node_id),
            "controller.quorum.voters": voters,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listeners": ",".join(listeners),
            "advertised.listeners": ",".join(advertised),
            "listener.security.protocol.map": ",".join(protocols),
            "log.dirs": str(node.log_dir),
            "num.partitions": "3",
            "default.replication.factor": rf,
            "min.insync.replicas": str(min(2, self.n)),
            "offsets.topic.replication.factor": rf,
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": rf,
            "transaction.state.log.min.isr": str(min(2, self.n)),
            "share.coordinator.state.topic.replication.factor": rf,
            "share.coordinator.state.topic.min.isr": str(min(2, self.n)),
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "false",
            "num.network.threads": "2",
            "num.io.threads": "2",
            "num.recovery.threads.per.data.dir": "1",
            "background.threads": "2",
            "log.cleaner.threads": "1",
            "log.cleaner.dedupe.buffer.size": str(8 * 1024 * 1024),
            "log.cleaner.backoff.ms": "1000",
            "unclean.leader.election.enable": "false",
            # a killed node is noticed within a few seconds, not the default 9 s (broker) / 2 s
            "broker.session.timeout.ms": "6000",
            "broker.heartbeat.interval.ms": "1000",
        }
        props.update(self.broker_config)
        return props

    def _write_config(self, node: KafkaNode) -> None:
        node.dir.mkdir(parents=True, exist_ok=True)
        node.log_dir.mkdir(parents=True, exist_ok=True)
        text = "".join(f"{k}={v}\n" for k, v in self._properties(node).items())
        node.properties.write_text(text)
        (node.dir / "log4j2.properties").write_text(LOG4J2)

    def _java(self, node: KafkaNode, main: str, *args: str, heap: str | None = None) -> list[str]:
        return [
            "java", f"-Xmx{heap or self.heap}", f"-Xms{heap or self.heap}",
            "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={node.dir / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={node.dir}",
            *self.jvm_opts,
            "-cp", f"{LIB}/*", main, *args,
        ]

    def format(self) -> None:
        """Write each node's properties and format its log dir (once per cluster)."""
        fetch()
        for node in self.nodes:
            self._write_config(node)
            cmd = self._java(node, "kafka.tools.StorageTool", "format", "-t", self.cluster_id,
                             "-c", str(node.properties), "--ignore-formatted",
                             *self.format_args, heap="256m")
            res = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
            if res.returncode != 0:
                raise HarnessUnavailable(
                    f"kafka-storage format failed for node {node.node_id} "
                    f"(exit {res.returncode}): {(res.stdout + res.stderr).strip()[-800:]}"
                )
        self._formatted = True

    # ---- life cycle ------------------------------------------------------------------------

    def start(self, timeout_s: float = 120.0) -> KafkaCluster:
        if not self._formatted:
            self.format()
        try:
            for node in self.nodes:
                self.start_node(node.node_id, wait=False)
            self.wait_ready(timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def start_node(self, node_id: int, wait: bool = True, timeout_s: float = 90.0) -> None:
        """Start (or restart after :meth:`kill`) one node, keeping its data."""
        node = self.node(node_id)
        if node.running():
            return
        with open(node.log_path, "ab") as log:
            node.proc = subprocess.Popen(
                self._java(node, "kafka.Kafka", str(node.properties)),
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        if wait:
            self.wait_ready(timeout_s)

    def _admin(self, timeout_ms: int = 3000) -> Any:  # confluent_kafka's AdminClient
        from confluent_kafka.admin import AdminClient

        conf: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers, "log_level": 0,
            "socket.timeout.ms": timeout_ms, "log.connection.close": False,
        }
        conf.update(self._admin_config)
        return AdminClient(conf)

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        """Until every running node is a broker in the cluster metadata."""
        deadline = time.monotonic() + timeout_s
        want = {n.node_id for n in self.nodes if n.running()}
        admin = self._admin()
        last: object = None
        while time.monotonic() < deadline:
            for n in self.nodes:
                if n.proc is not None and n.proc.poll() is not None and n.node_id in want:
                    raise HarnessUnavailable(
                        f"Kafka node {n.node_id} exited with code {n.proc.returncode} while "
                        f"starting; see {n.log_path}: {_tail(n.log_path)}"
                    )
            try:
                md = admin.list_topics(timeout=2.0)
                have = set(md.brokers)
                if want <= have:
                    return
                last = f"brokers up {sorted(have)}, want {sorted(want)}"
            except Exception as exc:  # KafkaException while ports are not yet open
                last = exc
            time.sleep(0.3)
        raise HarnessUnavailable(
            f"Kafka cluster on {self.bootstrap_servers} not ready in {timeout_s:.0f}s: {last}"
        )

    def stop_node(self, node_id: int, timeout_s: float = 30.0) -> None:
        """SIGTERM one node by its PID (a controlled shutdown); SIGKILL if it does not exit."""
        node = self.node(node_id)
        proc, node.proc = node.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGCONT)  # a paused JVM cannot act on SIGTERM
                proc.terminate()
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        """Stop every node by PID (all get SIGTERM first, so they shut down together)."""
        live = [n for n in self.nodes if n.running()]
        for n in live:
            assert n.proc is not None
            try:
                os.kill(n.proc.pid, signal.SIGCONT)
                n.proc.terminate()
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 30
        for n in live:
            assert n.proc is not None
            try:
                n.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                n.proc.kill()
                n.proc.wait(timeout=10)
        for n in self.nodes:
            if n.proc is not None and n.proc.poll() is None:
                n.proc.kill()
                n.proc.wait(timeout=10)
            n.proc = None
        if self._own_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def kill(self, node_id: int) -> None:
        """``kill -9`` one node (no controlled shutdown); :meth:`start_node` brings it back."""
        node = self.node(node_id)
        if node.proc is not None and node.proc.poll() is None:
            node.proc.kill()
            node.proc.wait(timeout=10)
        node.proc = None

    def pause(self, node_id: int) -> None:
        """SIGSTOP one node: it holds its sockets but answers nothing."""
        node = self.node(node_id)
        assert node.proc is not None, f"node {node_id} is not running"
        os.kill(node.proc.pid, signal.SIGSTOP)

    def resume(self, node_id: int) -> None:
        node = self.node(node_id)
        assert node.proc is not None, f"node {node_id} is not running"
        os.kill(node.proc.pid, signal.SIGCONT)

    # ---- inspection ------------------------------------------------------------------------

    def leader_of(self, topic: str, partition: int = 0, timeout_s: float = 10.0) -> int:
        """The node id leading ``topic``/``partition`` now."""
        md = self._admin().list_topics(topic, timeout=timeout_s)
        t = md.topics[topic]
        if t.error is not None:
            raise RuntimeError(f"topic {topic}: {t.error}")
        return int(t.partitions[partition].leader)

    def isr_of(self, topic: str, partition: int = 0, timeout_s: float = 10.0) -> list[int]:
        md = self._admin().list_topics(topic, timeout=timeout_s)
        return [int(x) for x in md.topics[topic].partitions[partition].isrs]

    def __enter__(self) -> KafkaCluster:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m tests.kafka_harness",
        description="Start an Apache Kafka 4.x KRaft cluster on loopback and wait (Ctrl-C stops)",
    )
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--heap", default=DEFAULT_HEAP)
    ap.add_argument("--dir", default=None, help="data folder (default: a temporary one)")
    ap.add_argument("--fetch-only", action="store_true", help="only fetch the jars with Maven")
    args = ap.parse_args(argv)
    try:
        lib = fetch(quiet=False)
        if args.fetch_only:
            print(f"Kafka jars in {lib}")
            return 0
        cluster = KafkaCluster(nodes=args.nodes, base_dir=args.dir, heap=args.heap)
        t0 = time.monotonic()
        cluster.start()
    except HarnessUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    pids = ", ".join(f"node {n.node_id} pid {n.pid}" for n in cluster.nodes)
    print(f"Apache Kafka ({args.nodes} KRaft nodes) ready in {time.monotonic() - t0:.1f}s: "
          f"FOREWARN_BOOTSTRAP_SERVERS={cluster.bootstrap_servers} ({pids}; data "
          f"{cluster.base_dir}); Ctrl-C stops it", flush=True)
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        while not stop:
            time.sleep(0.5)
            dead = [n for n in cluster.nodes if n.proc is not None and n.proc.poll() is not None]
            if dead:
                print(f"error: node {dead[0].node_id} exited: {_tail(dead[0].log_path)}",
                      file=sys.stderr)
                return 1
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
