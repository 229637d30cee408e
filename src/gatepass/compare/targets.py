"""The stores a comparison measures, opened privately and removed afterwards.

memory and SQLite are always measured (SQLite in a temporary file). Redis and PostgreSQL are
measured at the URL given, or at their usual local address when none is given and something
answers there; ``off`` skips one. A store that cannot be measured still gets its rows, saying
plainly why it was not measured: a missing number must never look like a small one.
"""

from __future__ import annotations

import contextlib
import socket
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from gatepass import open_store
from gatepass.compare import servers
from gatepass.errors import ConfigurationError, MissingDependency, StoreError

REDIS_DEFAULT = "redis://127.0.0.1:6379/0"
POSTGRES_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"
OFF = "off"


@dataclass
class Target:
    """One store as the comparison sees it."""

    key: str  # memory, sqlite, redis, postgres
    name: str  # as printed: memory, SQLite, Redis, PostgreSQL
    #: The private URL every process of this run opens (None when not measured).
    url: str | None = None
    store: Any = None
    #: Why this store was not measured (None when it was).
    skipped: str | None = None
    version: str | None = None
    #: Whether a second process can open the same store (all but ``memory://``).
    shared: bool = True
    #: What removes this run's data from the server, in order.
    cleanup: list[Callable[[], object]] = field(default_factory=list)


def redact(url: str) -> str:
    """``url`` without its password, fit to print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def _answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        port = parts.port or default_port
    except ValueError:
        return False
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def _open(target: Target, url: str) -> None:
    """Open and set up ``url`` for ``target``; on failure record why instead of raising.

    ``ConfigurationError`` (a malformed URL the user typed) is raised: that is a usage error,
    not a store to skip.
    """
    try:
        store = open_store(url)
    except MissingDependency as exc:
        target.skipped = f"{exc}"
        return
    try:
        store.setup()
    except ConfigurationError:
        store.close()
        raise
    except StoreError as exc:  # StoreUnavailable included: down, refused, wrong credentials
        with contextlib.suppress(StoreError):
            store.close()
        target.skipped = f"{type(exc).__name__}: {exc}"
        return
    target.url = url
    target.store = store


@dataclass(frozen=True)
class Server:
    """How to find, fence off, describe and clean up one kind of server."""

    key: str
    name: str
    default: str
    port: int
    flag: str
    private: Callable[[str, str], str]
    drop: Callable[[str, str], object]
    version: Callable[[str], str]


REDIS = Server(
    "redis",
    "Redis",
    REDIS_DEFAULT,
    6379,
    "--redis",
    servers.private_redis_url,
    lambda url, name: servers.drop_redis_prefix(url, f"{name}:"),
    servers.redis_version,
)
POSTGRES = Server(
    "postgres",
    "PostgreSQL",
    POSTGRES_DEFAULT,
    5432,
    "--postgres",
    servers.private_postgres_url,
    servers.drop_postgres_schema,
    servers.postgres_version,
)


def server_target(server: Server, option: str | None) -> Target:
    """``server`` at ``option`` (a URL; ``off``; None for its default address if it answers),
    opened in a private namespace, or a target saying why it was not."""
    target = Target(server.key, server.name)
    if option == OFF:
        target.skipped = f"switched off with {server.flag} off"
        return target
    base = option or server.default
    if option is None and not _answers(base, server.port):
        target.skipped = (
            f"nothing answers at its default address {redact(base)}; "
            f"pass {server.flag} URL to measure it"
        )
        return target
    name = servers.private_name()
    _open(target, server.private(base, name))
    if target.skipped is not None:
        target.skipped = f"{redact(base)} could not be used: {target.skipped}"
        return target
    target.cleanup.append(lambda: server.drop(base, name))
    try:
        target.version = server.version(base)
    except Exception as exc:  # a version is decoration: never fail for it
        target.version = f"version unknown ({type(exc).__name__})"
    return target


@dataclass
class Targets:
    """Every store of the run; ``warnings`` says what could not be cleaned up (after exit)."""

    all: list[Target] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> list[dict[str, Any]]:
        """Each store, where this run wrote (password removed) and why one was not measured."""
        return [
            {
                "name": t.name,
                "measured": t.skipped is None,
                "url": None if t.url is None else redact(t.url),
                "version": t.version,
                "not_measured_because": t.skipped,
            }
            for t in self.all
        ]

    def close(self) -> None:
        for target in self.all:
            if target.store is not None:
                try:
                    target.store.close()
                except StoreError as exc:
                    self.warnings.append(f"closing the {target.name} store: {exc}")
            for step in target.cleanup:
                try:
                    step()
                except Exception as exc:  # report every leftover, then go on
                    self.warnings.append(
                        f"could not remove this run's data from {target.name}: "
                        f"{type(exc).__name__}: {exc}"
                    )


@contextlib.contextmanager
def open_targets(redis: str | None, postgres: str | None) -> Iterator[Targets]:
    """memory, SQLite, Redis and PostgreSQL, each measured or saying why not; everything this
    run created is removed on exit, whatever happened."""
    targets = Targets()
    with tempfile.TemporaryDirectory(prefix="gatepass-compare-") as tmp:
        try:
            memory = Target("memory", "memory", shared=False)
            targets.all.append(memory)
            _open(memory, "memory://")
            sqlite = Target("sqlite", "SQLite")
            targets.all.append(sqlite)
            _open(sqlite, f"sqlite:///{Path(tmp) / 'compare.db'}")
            for server, option in ((REDIS, redis), (POSTGRES, postgres)):
                targets.all.append(server_target(server, option))
            yield targets
        finally:
            targets.close()
