"""Session records and the session policy as pure functions (no I/O).

Every decision about a session is made here, once: :class:`gatepass.Sessions` and
:class:`gatepass.AsyncSessions` call these functions, and so do all four backends between a read
and the conditional (compare-and-set) write that applies the decision. No policy is duplicated in
Lua or SQL; the conformance tests check every backend against these functions.

Tokens are ``"<tag>.<secret>"``: ``secret`` is ``secrets.token_urlsafe(32)`` (256 bits) and ``tag``
is :func:`routing_tag` of the user id, four base64url characters that put all of one user's keys in
one Redis Cluster slot. Stores keep only ``sha256(token)``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from hashlib import sha256
from typing import Any, NamedTuple

from gatepass.errors import ConfigurationError

JSONDict = dict[str, Any]

TAG_LENGTH = 4
_SECRET_LENGTH = 43  # len(secrets.token_urlsafe(32))
TOKEN_LENGTH = TAG_LENGTH + 1 + _SECRET_LENGTH
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

MAX_USER_ID = 255
MAX_METADATA_BYTES = 2048
MAX_DATA_BYTES = 4096


class SessionRecord(NamedTuple):
    """One server-side session as stored; the token itself is never part of it.

    ``id`` is a random public identifier for "your devices" pages: showing or logging it
    reveals nothing about the token. ``expires_at`` is the current idle deadline (never later
    than ``absolute_expires_at``); all times are seconds since the epoch of the sessions' clock.
    A snapshot: immutable, change it through :class:`gatepass.Sessions` (``record._replace``
    makes a modified copy that is never written back). A ``NamedTuple`` rather than a frozen
    dataclass because it is built on every ``get`` and costs a fifth as much to construct.
    """

    id: str
    user_id: str
    created_at: float
    authenticated_at: float
    last_seen_at: float
    expires_at: float
    absolute_expires_at: float
    remember: bool = False
    metadata: JSONDict = {}  # noqa: RUF012 - never mutated; records are built with their own dicts
    data: JSONDict = {}  # noqa: RUF012


@dataclass(frozen=True, slots=True)
class Lifetimes:
    """The timeouts of one :class:`Sessions` configuration, in seconds."""

    idle: float
    absolute: float
    idle_remember: float
    absolute_remember: float
    touch_interval: float

    def __post_init__(self) -> None:
        for name in ("idle", "absolute", "idle_remember", "absolute_remember"):
            if not getattr(self, name) > 0:
                raise ConfigurationError(f"{name} timeout must be positive")
        if self.touch_interval < 0:
            raise ConfigurationError("touch_interval must not be negative")
        if self.idle > self.absolute or self.idle_remember > self.absolute_remember:
            raise ConfigurationError(
                "an idle timeout longer than the absolute lifetime is unusable"
            )


class TouchSpec(NamedTuple):
    """What a store needs to decide, on its side, whether a read also renews the session.

    ``touch_before = now - touch_interval``: a live session last seen at or before it is renewed.
    The four lifetimes let the server reproduce :func:`is_live` exactly.
    """

    now: float
    touch_before: float
    idle: float
    idle_remember: float
    absolute: float
    absolute_remember: float


def touch_spec(lifetimes: Lifetimes, now: float) -> TouchSpec:
    return TouchSpec(
        now,
        now - lifetimes.touch_interval,
        lifetimes.idle,
        lifetimes.idle_remember,
        lifetimes.absolute,
        lifetimes.absolute_remember,
    )


def idle_for(spec: TouchSpec, remember: bool) -> float:
    return spec.idle_remember if remember else spec.idle


def absolute_for(spec: TouchSpec, remember: bool) -> float:
    return spec.absolute_remember if remember else spec.absolute


def is_live(record: SessionRecord, spec: TouchSpec) -> bool:
    """Not idle-expired and not past its absolute lifetime, by the record *and* by the current
    configuration (so shortening a timeout takes effect on existing sessions at once)."""
    now = spec.now
    if record.remember:
        idle, absolute = spec.idle_remember, spec.absolute_remember
    else:
        idle, absolute = spec.idle, spec.absolute
    return (
        now < record.expires_at
        and now < record.absolute_expires_at
        and now < record.last_seen_at + idle
        and now < record.created_at + absolute
    )


def touch_due(record: SessionRecord, spec: TouchSpec) -> bool:
    """Sliding renewal is throttled: at most one write per ``touch_interval`` per session."""
    return record.last_seen_at <= spec.touch_before and is_live(record, spec)


def next_expiry(record: SessionRecord, spec: TouchSpec) -> float:
    """The idle deadline after a touch at ``spec.now``, capped by the absolute lifetime."""
    return min(spec.now + idle_for(spec, record.remember), record.absolute_expires_at)


def touched(record: SessionRecord, spec: TouchSpec) -> SessionRecord:
    """The record after a renewal at ``spec.now`` (callers check :func:`touch_due` first)."""
    return record._replace(last_seen_at=spec.now, expires_at=next_expiry(record, spec))


def rotated(record: SessionRecord, spec: TouchSpec, auth_time: float | None) -> SessionRecord:
    """The record after moving to a new token at ``spec.now`` (a rotation also renews it)."""
    return record._replace(
        last_seen_at=spec.now,
        expires_at=next_expiry(record, spec),
        authenticated_at=record.authenticated_at if auth_time is None else auth_time,
    )


def ttl_ms(record: SessionRecord, now: float) -> int:
    """Milliseconds until the idle deadline: the native TTL of the Redis key (at least 1)."""
    return max(1, math.ceil((record.expires_at - now) * 1000))


def new_record(
    user_id: str,
    lifetimes: Lifetimes,
    now: float,
    *,
    remember: bool,
    metadata: Mapping[str, Any] | None,
) -> SessionRecord:
    idle = lifetimes.idle_remember if remember else lifetimes.idle
    absolute = lifetimes.absolute_remember if remember else lifetimes.absolute
    return SessionRecord(
        id=secrets.token_urlsafe(16),
        user_id=check_user_id(user_id),
        created_at=now,
        authenticated_at=now,
        last_seen_at=now,
        expires_at=now + min(idle, absolute),
        absolute_expires_at=now + absolute,
        remember=bool(remember),
        metadata=check_json(metadata or {}, MAX_METADATA_BYTES, "metadata"),
        data={},
    )


# --- tokens ---------------------------------------------------------------------------------------


def routing_tag(user_id: str) -> str:
    """Four base64url characters from the user id: the Redis Cluster hash tag of the user's slot.

    Not secret and not meant to be: anyone holding a token could at most confirm a guess of its
    user (24 bits), and only the user (or a thief who already holds the session) has the token.
    """
    digest = hashlib.sha256(b"gatepass/slot\x00" + user_id.encode()).digest()
    return base64.urlsafe_b64encode(digest[:3]).decode()


def new_token(user_id: str) -> str:
    return token_for_tag(routing_tag(user_id))


def token_for_tag(tag: str) -> str:
    """A fresh token in the slot ``tag`` (rotation keeps the user's tag)."""
    return f"{tag}.{secrets.token_urlsafe(32)}"


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def parse_token(token: object) -> tuple[bytes, str] | None:
    """``(sha256, tag)`` of a well-formed token, or None: malformed input never reaches a store.

    Only the shape and the tag's alphabet are checked (the tag becomes part of a Redis key); the
    secret part needs no check: any other string simply hashes to nothing stored.
    """
    if (
        type(token) is not str
        or len(token) != TOKEN_LENGTH
        or token[TAG_LENGTH] != "."
        or not token.isascii()
    ):
        return None
    tag = token[:TAG_LENGTH]
    if not _TOKEN_CHARS.issuperset(tag):
        return None
    return sha256(token.encode()).digest(), tag


def check_user_id(user_id: object) -> str:
    if not isinstance(user_id, str) or not user_id or len(user_id) > MAX_USER_ID:
        raise ConfigurationError(f"user_id must be a non-empty str of at most {MAX_USER_ID} chars")
    return user_id


def dump_json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def check_json(value: Mapping[str, Any], limit: int, what: str) -> JSONDict:
    """A JSON-object copy of ``value`` (str keys, JSON values), at most ``limit`` bytes encoded."""
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ConfigurationError(f"session {what} must be a mapping with str keys")
    try:
        text = dump_json(value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"session {what} must be JSON-serialisable: {exc}") from None
    if len(text.encode()) > limit:
        raise ConfigurationError(f"session {what} is larger than {limit} bytes")
    result: JSONDict = json.loads(text)
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
