"""What the two SQL backends share: identifier checks, the session columns, row decoding."""

from __future__ import annotations

import re
from typing import Any

from gatepass.errors import ConfigurationError
from gatepass.stores.records import SessionRecord, TouchSpec, from_row, liveness, touched

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,40}$")

#: The column order every SELECT/RETURNING of a session uses.
SESSION_COLUMNS = (
    "id, user_id, created_at, authenticated_at, last_seen_at, expires_at, "
    "absolute_expires_at, remember, metadata, data"
)


def check_identifier(value: str, what: str, *, allow_empty: bool = False) -> str:
    """Prefixes and schema names become part of SQL text, so only plain identifiers are allowed."""
    if allow_empty and value == "":
        return value
    if not _IDENT.match(value):
        raise ConfigurationError(f"{what} must match {_IDENT.pattern}, got {value!r}")
    return value


def touch_plan(
    token_hash: bytes, record: SessionRecord, touch: TouchSpec
) -> tuple[SessionRecord, tuple[Any, ...]]:
    """The due sliding renewal: the renewed record and the compare-and-set UPDATE's arguments.

    The UPDATE (``SET last_seen_at, expires_at WHERE token_hash AND last_seen_at``) applies only
    if the row is still the one read, so a concurrent revoke (row gone) or rotate (new hash) or
    touch (new ``last_seen_at``) always wins. Pure: the sync and async front-ends both run it.
    """
    new = touched(record, touch)
    return new, (new.last_seen_at, new.expires_at, token_hash, record.last_seen_at)


def after_lost_touch(row: Any, touch: TouchSpec) -> SessionRecord | None:
    """The outcome when the compare-and-set matched no row: someone else touched, rotated or
    revoked the session meanwhile, so the re-read row (or None) is the current state."""
    if row is None:
        return None
    current = from_row(row)
    return current if liveness(current, touch) else None


def cas_touch(
    conn: Any,
    sql_touch: str,
    sql_get: str,
    *,
    token_hash: bytes,
    record: SessionRecord,
    touch: TouchSpec,
) -> SessionRecord | None:
    """:func:`touch_plan` and :func:`after_lost_touch` on a blocking DB-API connection (sqlite3
    or psycopg); the asyncio PostgreSQL store does the same I/O awaited."""
    new, args = touch_plan(token_hash, record, touch)
    if conn.execute(sql_touch, args).rowcount == 1:
        return new
    return after_lost_touch(conn.execute(sql_get, (token_hash,)).fetchone(), touch)
