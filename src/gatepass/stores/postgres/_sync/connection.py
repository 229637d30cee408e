# GENERATED from gatepass/stores/postgres/_async/connection.py by scripts/unasync.py: do not edit.
# Change the asyncio source, then run `python scripts/unasync.py`.
"""A psycopg connection whose every wait for the server ends within a bound (``?timeout=``).

Why on the client: a server that is frozen (SIGSTOP, a stuck host, a VM paused) still has a
kernel that accepts and acknowledges our packets, so nothing on the network side ever fires:
neither TCP keepalives nor ``tcp_user_timeout`` (the data *is* acknowledged), nor the server's
own ``statement_timeout`` (the server does not run). libpq has no query timeout of its own; the
one place where psycopg bounds a wait is the ``timeout`` argument of ``Connection.wait`` (since
psycopg 3.3.6), which every query, commit and fetch goes through. The pool builds its
connections from this class (``connection_class``), so every pooled connection waits at most
``bound`` seconds per round trip, and the store's ``LISTEN`` connection too.

A wait that gives up leaves a query in flight and the protocol in an unknown state: the
connection is closed at once (``pgconn.finish()``, psycopg's own answer when a cancelled query
does not end), so the pool discards it instead of lending it again, and replaces it.
"""

from __future__ import annotations

from typing import Any, TypeVar

import psycopg
from psycopg.abc import PQGen
from psycopg.pq import TransactionStatus

RV = TypeVar("RV")


class BoundedConnection(psycopg.Connection[Any]):
    """``psycopg.Connection`` with a default bound on each wait (see the module doc)."""

    #: Seconds one wait for the server may take; the store sets it on each new connection.
    bound: float = 5.0

    def wait(self, gen: PQGen[RV], interval: float = 0.1, timeout: float | None = None) -> RV:
        if timeout is not None:  # psycopg's own bounded waits (notifies) keep theirs
            return super().wait(gen, interval, timeout)
        try:
            return super().wait(gen, interval, self.bound)
        except psycopg.OperationalError as exc:
            if self.pgconn.transaction_status != TransactionStatus.ACTIVE:
                raise  # the server answered (an error): the connection is still in step
            self.pgconn.finish()
            raise psycopg.OperationalError(
                f"no answer from the server within {self.bound:g} s; connection closed"
            ) from exc
