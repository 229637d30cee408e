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


#: A row in :data:`SESSION_COLUMNS` order as a record (see :data:`records.from_row`).
row_to_record = from_row


def cas_touch(
    conn: Any,
    sql_touch: str,
    sql_get: str,
    *,
    token_hash: bytes,
    record: SessionRecord,
    touch: TouchSpec,
) -> SessionRecord | None:
    """The due sliding renewal on a DB-API connection (sqlite3 or psycopg, blocking): a
    compare-and-set UPDATE on ``last_seen_at``, so a concurrent revoke or rotate always wins."""
    new = touched(record, touch)
    args = (new.last_seen_at, new.expires_at, token_hash, record.last_seen_at)
    if conn.execute(sql_touch, args).rowcount == 1:
        return new
    # Someone else touched, rotated or revoked it meanwhile: report the current state.
    row = conn.execute(sql_get, (token_hash,)).fetchone()
    if row is None:
        return None
    current = row_to_record(row)
    return current if liveness(current, touch) else None
