"""JSON text as the stores keep it: compact on write, decoded once per distinct text on read."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NoReturn

from gatepass.errors import StoreError
from gatepass.stores.records import EMPTY, FrozenDict, freeze

# Built once: json.dumps() with non-default options constructs a new encoder on every call.
# Not gatepass.tokens._json.dumps_compact: that one writes bytes and refuses nesting deeper than
# tokens allow (16), while session data may nest 32 levels.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def dump_json(value: Any) -> str:
    """The stored JSON text of a checked value: compact, UTF-8, no NaN or infinity."""
    return _ENCODER.encode(value)


def _not_json(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


#: ``NaN`` / ``Infinity`` (which :func:`dump_json` never writes) are refused, not read as numbers.
_DECODER = json.JSONDecoder(parse_constant=_not_json)


def load_json(text: str) -> Any:
    """Decode JSON text gatepass wrote; ``ValueError`` (or ``RecursionError``) otherwise."""
    return _DECODER.decode(text)


#: Decoded, frozen JSON objects keyed by their stored text. The SQL stores decode the two JSON
#: columns of every row they read, and a session's metadata never changes, so a hit costs one
#: dict lookup instead of a decode and a freeze: on a cache miss the SQLite ``get`` costs 1.4x
#: its floor instead of 1.2x (``bench/bench_sessions.py``, "distinct metadata" rows). Safe to
#: share because the values are deeply immutable; bounded by entries and by total text.
LOADED_JSON: dict[str, FrozenDict] = {"{}": EMPTY}
LOADED_JSON_MAX_ENTRIES = 1024
LOADED_JSON_MAX_TEXT = 4096  # the largest metadata/data text a session may hold
LOADED_JSON_MAX_TOTAL = 512 * 1024  # characters of text held at most
_loaded_total = [0]


def load_json_object(text: object) -> Mapping[str, Any]:
    """A stored ``metadata`` / ``data`` column as a frozen mapping.

    Anything that is not a JSON object decodes to the empty mapping; text that is not JSON at
    all (a damaged row) raises ``StoreError``. ``bytes`` are decoded as UTF-8; a mapping a
    driver already decoded is frozen.
    """
    if type(text) is not str:
        if isinstance(text, bytes | bytearray | memoryview):
            try:
                return load_json_object(bytes(text).decode())
            except UnicodeDecodeError:
                raise StoreError("a stored session's metadata or data is not UTF-8") from None
        return freeze(text) if type(text) is dict else EMPTY
    found = LOADED_JSON.get(text)
    if found is not None:
        return found
    try:
        decoded = load_json(text)
    except (ValueError, RecursionError):
        raise StoreError("a stored session's metadata or data is not valid JSON") from None
    result: FrozenDict = freeze(decoded) if type(decoded) is dict else EMPTY
    size = len(text)
    if size <= LOADED_JSON_MAX_TEXT:
        if (
            len(LOADED_JSON) >= LOADED_JSON_MAX_ENTRIES
            or _loaded_total[0] + size > LOADED_JSON_MAX_TOTAL
        ):
            LOADED_JSON.clear()  # rare, and safe under threads (unlike evicting while iterating)
            LOADED_JSON["{}"] = EMPTY
            _loaded_total[0] = 0
        LOADED_JSON[text] = result
        _loaded_total[0] += size  # approximate under threads: a bound, not an account
    return result
