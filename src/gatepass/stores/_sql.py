"""What the two SQL backends share: identifier checks, the session columns, row decoding."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from gatepass.errors import ConfigurationError
from gatepass.stores.records import SessionRecord

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


# The C scanner behind json.loads, without its Python wrappers: our own column values only.
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _json(value: Any) -> dict[str, Any]:
    if value == "{}":  # the common case for session data: skip the decoder
        return {}
    decoded = _scan(value, 0)[0] if type(value) is str else value
    return decoded if isinstance(decoded, dict) else {}


def row_to_record(row: Sequence[Any]) -> SessionRecord:
    return SessionRecord(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        bool(row[7]),
        _json(row[8]),
        _json(row[9]),
    )
