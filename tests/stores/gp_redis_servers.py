"""Private Redis servers for the tests, on loopback, that tests may stop and start again: one
``redis-server``, or a three-master Redis Cluster whose nodes can be stopped one at a time, from
Debian's ``redis-server``. Nothing here touches the shared server on 6379."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from gp_loopback import free_port, wait_port

REDIS_SERVER = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")


class RedisServer:
    """One private ``redis-server`` that tests may stop (SIGKILL) and start again."""

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        *,
        cluster: bool = False,
        persistent: bool = False,
        node_timeout_ms: int = 2000,
    ) -> None:
        self.workdir = workdir
        self.cluster = cluster
        self.persistent = persistent
        self.node_timeout_ms = node_timeout_ms
        self.port = port if port is not None else free_port(cluster)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        assert REDIS_SERVER is not None
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = [
            REDIS_SERVER,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes" if self.persistent else "no",
            "--appendfsync",
            "always",
            "--dir",
            str(self.workdir),
            "--logfile",
            str(self.workdir / f"redis-{self.port}.log"),
        ]
        if self.cluster:
            args += [
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                f"nodes-{self.port}.conf",
                "--cluster-node-timeout",
                str(self.node_timeout_ms),
            ]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, up=True)
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None
        wait_port(self.port, up=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def cli(self, *args: str) -> str:
        assert REDIS_CLI is not None
        out = subprocess.run(
            [REDIS_CLI, "-p", str(self.port), *args], capture_output=True, check=True, timeout=30
        )
        return out.stdout.decode()


@contextlib.contextmanager
def running_redis(workdir: Path, **options: bool) -> Iterator[RedisServer]:
    """A started :class:`RedisServer`, killed afterwards even if a test left it frozen (SIGSTOP:
    it is continued first, so that nothing of it lingers)."""
    server = RedisServer(workdir, **options).start()
    try:
        yield server
    finally:
        if server.proc is not None:
            os.kill(server.proc.pid, signal.SIGCONT)
        server.kill()


class RedisCluster:
    """Three masters, no replicas, on free loopback ports.

    ``persistent=True`` gives every node an append-only file (fsync always), so a node killed with
    SIGKILL and started again (same port, same directory, hence the same ``nodes-<port>.conf``:
    same node id, same slots) comes back with its data.
    """

    def __init__(
        self, workdir: Path, *, persistent: bool = False, node_timeout_ms: int = 2000
    ) -> None:
        self.nodes = [
            RedisServer(
                workdir / f"n{i}",
                cluster=True,
                persistent=persistent,
                node_timeout_ms=node_timeout_ms,
            )
            for i in range(3)
        ]

    def start(self) -> RedisCluster:
        assert REDIS_CLI is not None
        for node in self.nodes:
            node.start()
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        subprocess.run(
            [
                REDIS_CLI,
                "--cluster",
                "create",
                *addresses,
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            capture_output=True,
            check=True,
            timeout=60,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if all("cluster_state:ok" in n.cli("cluster", "info") for n in self.nodes):
                return self
            time.sleep(0.1)
        raise RuntimeError("the test cluster did not reach cluster_state:ok")

    def wait_state(self, state: str, nodes: list[RedisServer], timeout: float = 30.0) -> None:
        """Poll (bounded) until every node of ``nodes`` reports ``cluster_state:<state>``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(f"cluster_state:{state}" in n.cli("cluster", "info") for n in nodes):
                return
            time.sleep(0.05)
        raise RuntimeError(f"the test cluster did not reach cluster_state:{state}")

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"


def owned_slots(node: RedisServer) -> list[range]:
    """The hash slots ``node`` serves, from its own line (``myself``) of ``CLUSTER NODES``."""
    for line in node.cli("cluster", "nodes").splitlines():
        fields = line.split()
        if len(fields) > 8 and "myself" in fields[2].split(","):
            slots = []
            for spec in fields[8:]:
                if spec.startswith("["):  # a slot being migrated: not ours to count
                    continue
                first, _, last = spec.partition("-")
                slots.append(range(int(first), int(last or first) + 1))
            return slots
    raise RuntimeError(f"no 'myself' line in CLUSTER NODES of port {node.port}")
