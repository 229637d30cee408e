"""Checks of what callers hand to sessions: ``metadata`` and ``data`` (pure; ids are checked by
:func:`gatepass.stores.limits.check_id`, the one check for every front-end).

Everything a backend could refuse or change is refused here, the same way for all of them
(``ConfigurationError``), so that no backend stores what another would not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from gatepass.errors import ConfigurationError
from gatepass.stores.jsontext import dump_json
from gatepass.stores.records import FrozenDict, freeze

JSONDict = dict[str, Any]

MAX_METADATA_BYTES = 2048
MAX_DATA_BYTES = 4096
#: Objects and arrays nest at most this deep in ``metadata`` / ``data`` (the top-level object
#: counts as 1). Far beyond any real session data, and far below the recursion limits that
#: ``json`` and :func:`~gatepass.stores.records.freeze` would otherwise hit on hostile input.
MAX_JSON_DEPTH = 32


#: A JSON ``\u0000`` escape (a real NUL character) in dumped text: preceded by an even number of
#: backslashes, so the six characters ``\u0000`` written by a user (dumped as ``\\u0000``) do
#: not match.
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")
#: The smallest float whose JSON text uses a positive exponent (``1e+16``). PostgreSQL's jsonb
#: reads such a number as an exact decimal and gives it back as an integer (``1e300`` returns as
#: ``10**300``, a different number), while the other stores give back the float.
_EXPONENT_FLOAT = 1e16


def _check_json_tree(value: JSONDict, what: str) -> None:
    """Depth and number checks on a freshly decoded JSON object (ours: changed in place).

    Iterative, so hostile nesting costs no recursion. ``-0.0`` becomes ``0.0`` (PostgreSQL's
    numeric has no negative zero); floats from :data:`_EXPONENT_FLOAT` on are refused, since
    PostgreSQL would return them as different numbers.
    """
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ConfigurationError(
                f"session {what} nests objects and arrays deeper than {MAX_JSON_DEPTH} levels"
            )
        items: Any = node.items() if type(node) is dict else enumerate(node)
        for key, item in items:
            kind = type(item)
            if kind is dict or kind is list:
                stack.append((item, depth + 1))
            elif kind is float and not -_EXPONENT_FLOAT < item < _EXPONENT_FLOAT:
                raise ConfigurationError(
                    f"session {what} holds the float {item!r}, which not every store keeps "
                    "exactly: store it as an int or a string"
                )
            elif kind is float and item == 0.0:
                node[key] = 0.0  # -0.0 (or 0.0): replacing a value while iterating is safe


def check_json(value: Mapping[str, Any], limit: int, what: str) -> FrozenDict:
    """A frozen JSON-object copy of ``value`` (str keys, JSON values), at most ``limit`` bytes
    encoded. Frozen (:func:`freeze`): it becomes part of a record, which is shared.

    Everything a backend could refuse or change is refused here, the same way for all of them
    (``ConfigurationError``): values that are not JSON (or NaN / infinity), text that is not
    encodable as UTF-8 (lone surrogates), NUL characters in any key or string (PostgreSQL's
    jsonb rejects ``\\u0000``), nesting deeper than :data:`MAX_JSON_DEPTH`, and floats that
    PostgreSQL would return as a different number (see :func:`_check_json_tree`).
    """
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ConfigurationError(f"session {what} must be a mapping with str keys")
    try:
        text = dump_json(value if isinstance(value, dict) else dict(value))
    except RecursionError:
        raise ConfigurationError(
            f"session {what} nests objects and arrays deeper than {MAX_JSON_DEPTH} levels"
        ) from None
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"session {what} must be JSON-serialisable: {exc}") from None
    try:
        size = len(text.encode())
    except UnicodeEncodeError:
        raise ConfigurationError(
            f"session {what} must be valid Unicode text (no lone surrogates)"
        ) from None
    if size > limit:
        raise ConfigurationError(f"session {what} is larger than {limit} bytes")
    if "\\u0000" in text and _NUL_ESCAPE.search(text):
        raise ConfigurationError(f"session {what} must not contain NUL characters")
    try:
        decoded = json.loads(text)
    except RecursionError:
        raise ConfigurationError(
            f"session {what} nests objects and arrays deeper than {MAX_JSON_DEPTH} levels"
        ) from None
    _check_json_tree(decoded, what)
    result: FrozenDict = freeze(decoded)
    return result


def merge_data(data: Mapping[str, Any], patch: Mapping[str, Any]) -> JSONDict:
    """Top-level merge; a ``None`` value deletes the key (as in RFC 7386 JSON merge patch)."""
    merged = dict(data)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
