"""Driver exceptions as gatepass errors: an outage is ``StoreUnavailable``, the rest ``StoreError``.

Every store call runs inside :class:`translate_errors`, so no ``sqlite3``, ``redis`` or
``psycopg`` exception ever reaches a caller (fail closed: an unreachable store is never "logged
in"). Classification is by exception type, with the driver modules imported only when one of
their exceptions exists.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from types import TracebackType
from typing import NoReturn

from gatepass.errors import StoreError, StoreUnavailable


def _classify(exc: BaseException) -> type[StoreError] | None:
    """Which gatepass error a driver exception becomes, or None if it is not a driver error."""
    if isinstance(exc, StoreError):
        return None
    if isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError):
        message = str(exc).lower()
        if "no such table" in message or "syntax error" in message:
            return StoreError
        return StoreUnavailable
    if isinstance(exc, sqlite3.Error):
        return StoreError
    module = type(exc).__module__
    if module.startswith("redis"):
        import redis.exceptions as rx  # noqa: PLC0415 - only when a redis error exists

        # Server answers that mean "not now" (a replica, loading, a migration, a cluster that
        # lost a master: CLUSTERDOWN / MASTERDOWN, memory full: OOM, persistence failing so
        # writes are refused: MISCONF) are outages; other error replies are errors.
        not_now = (
            rx.ReadOnlyError,
            rx.BusyLoadingError,
            rx.TryAgainError,
            rx.ClusterDownError,
            rx.OutOfMemoryError,
        )
        if isinstance(exc, rx.ResponseError) and not (
            isinstance(exc, not_now) or _MISCONF.match(str(exc))
        ):
            return StoreError
        return StoreUnavailable
    if module.startswith(("psycopg", "psycopg_pool")):
        import psycopg  # noqa: PLC0415 - only when a psycopg error exists

        if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
            return StoreUnavailable
        if isinstance(exc, psycopg.Error):
            return StoreError
        return StoreUnavailable  # psycopg_pool.PoolTimeout, TooManyRequests, PoolClosed
    if isinstance(exc, OSError | TimeoutError | ConnectionError):
        return StoreUnavailable
    return None


# Redis's reply while it cannot persist (a full disk): "MISCONF Redis is configured to save...",
# alone or after a pipeline's "Command # 1 (...) of pipeline caused error: ".
_MISCONF = re.compile(r"(?:.{0,200}caused error: )?MISCONF ", re.DOTALL)
# SQLite "no such table", PostgreSQL 'relation "..." does not exist'.
_MISSING_SCHEMA = re.compile(r"no such table|relation .* does not exist|function .* does not exist")
_SCHEMA_HINT = " (the schema is missing: call store.setup() once, e.g. at deploy time)"


class translate_errors(contextlib.AbstractContextManager[None]):
    """Re-raise driver exceptions as ``StoreUnavailable`` / ``StoreError`` (fail closed).

    ``with translate_errors("redis"): ...``. The original exception is chained (``__cause__``)
    for logs; its text is included because driver messages hold no token (stores only see
    hashes). Stateless, so one instance per store is reused and nested freely.
    """

    __slots__ = ("backend",)

    def __init__(self, backend: str = "store") -> None:
        self.backend = backend

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None or not isinstance(exc, Exception):
            return
        kind = _classify(exc)
        if kind is None:
            return
        text = str(exc)[:200]
        hint = _SCHEMA_HINT if _MISSING_SCHEMA.search(text) else ""
        raise kind(f"{self.backend}: {type(exc).__name__}: {text}{hint}") from exc

    def reraise(self, exc: BaseException) -> NoReturn:
        """Raise what leaving ``with self:`` would raise for ``exc``: the ``try``/``except`` form
        for a hot path, where a ``with`` block would cost two calls on every pass."""
        self.__exit__(type(exc), exc, exc.__traceback__)
        raise exc
