"""Two ways a running Redis refuses writes while it still answers reads, performed for real on
a private server (:class:`gp_store_servers.RedisServer`): its memory is full (``maxmemory``
reached under the default ``noeviction``: ``OOM`` replies to writes that may grow it), and it
cannot persist (its directory refuses new files, so a background save fails and, under the
default ``stop-writes-on-bgsave-error``, every write is answered ``MISCONF``: a full disk)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from gp_store_servers import RedisServer


def _wait_for(server: RedisServer, text: str) -> None:
    """Poll ``INFO persistence`` (bounded) until it reports ``text``."""
    for _ in range(1000):
        if text in server.cli("info", "persistence"):
            return
        time.sleep(0.01)
    raise AssertionError(f"redis never reported {text}")


@contextmanager
def memory_full(server: RedisServer) -> Iterator[None]:
    server.cli("config", "set", "maxmemory", "1")
    try:
        yield
    finally:
        server.cli("config", "set", "maxmemory", "0")


@contextmanager
def cannot_persist(server: RedisServer) -> Iterator[None]:
    """The server's directory turns immutable (``chattr +i``: root's permissions do not bypass
    it) and a background save is asked for: it fails, and writes are refused until a save
    succeeds again."""
    server.cli("config", "set", "save", "3600 1")
    subprocess.run(["chattr", "+i", str(server.workdir)], check=True)
    try:
        server.cli("bgsave")
        _wait_for(server, "rdb_last_bgsave_status:err")
        yield
    finally:
        subprocess.run(["chattr", "-i", str(server.workdir)], check=True)
        server.cli("config", "set", "save", "")
        server.cli("bgsave")  # succeeds now, which lifts the refusal
        _wait_for(server, "rdb_last_bgsave_status:ok")


FAULTS: dict[str, Callable[[RedisServer], AbstractContextManager[None]]] = {
    "oom": memory_full,
    "misconf": cannot_persist,
}
