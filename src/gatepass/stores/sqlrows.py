"""What the two SQL backends share: identifier checks, the session columns, rows as records."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from gatepass.errors import ConfigurationError
from gatepass.stores.jsontext import LOADED_JSON, load_json_object
from gatepass.stores.records import Family, FamilyRead, RevocationLookup, SessionRecord

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,40}$")

#: The column order of every SELECT/RETURNING of a session (the order of :class:`SessionRecord`).
SESSION_COLUMNS = (
    "id, user_id, created_at, authenticated_at, last_seen_at, expires_at, "
    "absolute_expires_at, remember, metadata, data"
)

_new_record = tuple.__new__
_cached = LOADED_JSON.get

FAMILY_COLUMNS = (
    "id, user_id, sid, created_at, last_used_at, generation, rotated_at, revoked, expires_at, "
    "scopes, auth_time, jkt"
)
#: The columns a family gained after its table was first released, with their SQL types (both
#: backends): ``setup()`` adds the ones an older table lacks.
FAMILY_ADDED = (("scopes", "TEXT NOT NULL DEFAULT ''"), ("auth_time", "REAL"), ("jkt", "TEXT"))
_FAMILY_WIDTH = 12


def check_identifier(value: str, what: str, *, allow_empty: bool = False) -> str:
    """Prefixes and schema names become part of SQL text, so only plain identifiers are allowed."""
    if allow_empty and value == "":
        return value
    if not isinstance(value, str) or not _IDENT.match(value):
        raise ConfigurationError(f"{what} must match {_IDENT.pattern}, got {value!r:.60}")
    return value


def session_from_row(row: Sequence[Any]) -> SessionRecord:
    """A row in :data:`SESSION_COLUMNS` order as a record (``remember`` as a bool, the JSON
    columns decoded through the shared cache).

    On the hot path of every SQL ``get``, so written for it (``bench/bench_sessions.py``; a
    callgrind count of the SQLite ``get`` over its floor: 1.47x with the plain construction,
    see the numbers in ``docs/bench/sessions.md``): the record is built with ``tuple.__new__``
    (the NamedTuple's own ``__new__`` is a Python function) and the cache is asked directly,
    ``load_json_object`` being called only when it misses.
    """
    id_, user_id, created, authenticated, seen, expires, absolute, remember, meta, data = row
    metadata: Mapping[str, Any] | None = _cached(meta)
    if metadata is None:
        metadata = load_json_object(meta)
    values: Mapping[str, Any] | None = _cached(data)
    if values is None:
        values = load_json_object(data)
    record: SessionRecord = _new_record(
        SessionRecord,
        (
            id_,
            user_id,
            created,
            authenticated,
            seen,
            expires,
            absolute,
            bool(remember),
            metadata,
            values,
        ),
    )
    return record


def session_values(token_hash: bytes, record: SessionRecord, dump: Any) -> tuple[Any, ...]:
    """The INSERT arguments of a session: its hash, then :data:`SESSION_COLUMNS` in order."""
    r = record
    return (
        token_hash,
        r.id,
        r.user_id,
        r.created_at,
        r.authenticated_at,
        r.last_seen_at,
        r.expires_at,
        r.absolute_expires_at,
        r.remember,
        dump(r.metadata),
        dump(r.data),
    )


def touch_values(
    token_hash: bytes, current: SessionRecord, renewed: SessionRecord
) -> tuple[Any, ...]:
    """The arguments of the touch compare-and-set: ``SET last_seen_at, expires_at WHERE
    token_hash AND last_seen_at`` (a touch or a rotation always moves ``last_seen_at``, so an
    unchanged one means an unchanged row)."""
    return (renewed.last_seen_at, renewed.expires_at, token_hash, current.last_seen_at)


def move_values(
    old_hash: bytes, new_hash: bytes, current: SessionRecord, moved: SessionRecord
) -> tuple[Any, ...]:
    """The arguments of the rotation compare-and-set: ``SET token_hash, last_seen_at,
    expires_at, authenticated_at WHERE token_hash AND last_seen_at``."""
    return (
        new_hash,
        moved.last_seen_at,
        moved.expires_at,
        moved.authenticated_at,
        old_hash,
        current.last_seen_at,
    )


def family_values(family: Family) -> tuple[Any, ...]:
    """A family's row in :data:`FAMILY_COLUMNS` order."""
    f = family
    return (
        f.id, f.user_id, f.sid, f.created_at, f.last_used_at, f.generation, f.rotated_at,
        f.revoked, f.expires_at, " ".join(f.scopes), f.auth_time, f.jkt,
    )  # fmt: skip


# --- refresh families ---------------------------------------------------------------------


def family_from_row(row: Sequence[Any]) -> Family:
    """A family from :data:`FAMILY_COLUMNS` (SQLite and PostgreSQL alike); scopes are stored
    space-separated (a scope never holds a space)."""
    return Family(
        row[0], row[1], row[2], row[3], row[4], int(row[5]), row[6], bool(row[7]), row[8],
        tuple(row[9].split()) if row[9] else (), row[10], row[11],
    )  # fmt: skip


def family_read_sql(fam: str, tok: str, sess: str, ph: str, clock: str = "NULL") -> str:
    """The one SELECT of a rotation's read: the token's generation, its family, the family's
    session row (by user and public id) with that row's token hash, which the write checks, and
    ``clock`` (SQL for the server's clock, where the server has the store's clock)."""
    columns = ", ".join(f"f.{c.strip()}" for c in FAMILY_COLUMNS.split(","))
    session = ", ".join(f"s.{c.strip()}" for c in SESSION_COLUMNS.split(","))
    return (
        f"SELECT t.generation, {columns}, s.token_hash, {session}, {clock} FROM {tok} t "
        f"JOIN {fam} f ON f.id = t.family_id "
        f"LEFT JOIN {sess} s ON f.sid IS NOT NULL AND s.user_id = f.user_id AND s.id = f.sid "
        f"WHERE t.token_hash = {ph}"
    )


def family_read_from_row(row: Sequence[Any] | None, store_now: float) -> FamilyRead:
    """The read of :func:`family_read_sql`; ``version`` is the family's generation and the
    session row's token hash as read."""
    if row is None:
        return FamilyRead(None, 0, None, store_now)
    family = family_from_row(row[1 : 1 + _FAMILY_WIDTH])
    session_hash = row[1 + _FAMILY_WIDTH]
    first = 2 + _FAMILY_WIDTH
    session = None if session_hash is None else session_from_row(row[first : first + 10])
    return FamilyRead(
        family, int(row[0]), session, store_now, version=(family.generation, session_hash)
    )


# --- revocations ----------------------------------------------------------------------------


def lookup_sql(table: str, ph: str) -> str:
    """The denylist check of one token in one SELECT (SQLite and PostgreSQL alike)."""
    return (
        f"SELECT kind, value FROM {table} WHERE expires_at > {ph} AND ("
        f"(kind = 'jti' AND key = {ph}) OR (kind = 'sid' AND key = {ph}) "
        f"OR (kind = 'user' AND key = {ph}))"
    )


def lookup_from_rows(rows: list[tuple[str, int]]) -> RevocationLookup:
    kinds = dict(rows)
    cutoff = kinds.get("user")
    return RevocationLookup("jti" in kinds, "sid" in kinds, None if cutoff is None else int(cutoff))
