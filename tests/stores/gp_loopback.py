"""Loopback ports for the private servers of the tests: a free one, and waiting (bounded) for
one to open or close."""

from __future__ import annotations

import random
import socket
import time


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(cluster: bool = False) -> int:
    """A free loopback port (and its cluster bus port, port + 10000, when ``cluster``)."""
    for _ in range(200):
        port = random.randint(20000, 45000)
        if port_free(port) and (not cluster or port_free(port + 10000)):
            return port
    raise RuntimeError("no free port")


def wait_port(port: int, up: bool, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                is_up = True
        except OSError:
            is_up = False
        if is_up == up:
            return
        time.sleep(0.02)
    raise RuntimeError(f"port {port} did not go {'up' if up else 'down'}")
