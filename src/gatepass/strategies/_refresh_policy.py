"""Refresh-token policy as pure functions (no I/O): token format, successors, the rotation rule.

Tokens
------
``rt_<tag>.<family>~<secret>`` (74 characters): ``tag`` is the user's 4-character routing tag
(the Redis Cluster slot of every key of that user, as for sessions), ``family`` the 22-character
id of the token's family (:func:`new_family_id`) and ``secret`` 256 bits in base64url. The
``rt_`` prefix keeps refresh tokens and session tokens apart: neither parses as the other; the
``~`` keeps both to one dot, so no JWS/JWT parser splits one into three segments (it is refused at
the segment count, whose error quotes only the first one, ``rt_<tag>``). Stores keep only
``sha256(token)`` (of the whole token).

Why the family id is in the token: on Redis every key a script touches must be named in its
``KEYS``, and the family's key is named after the family. Carried in the token, it lets one
``EVALSHA`` declare the old and new token keys and the family key at once (one round trip per
rotation) instead of reading the token's reference first. It is not secret (access tokens of a
family without a session carry it as ``sid``), and it is not trusted either: the store looks the
token up by its hash, and Redis answers ``unknown`` unless the reference stored for that hash
names the same family. A forged token that pairs a real family id with a made-up secret hashes
to nothing, so it is unknown like any other guess.

Deterministic successors, and why that is safe
----------------------------------------------
The token that replaces ``T`` is ``rt_<tag>.<family>~`` + ``HMAC-SHA256(secret_key, "gatepass
refresh successor" || T)`` (same tag, same family). So when two requests present ``T`` at the
same moment (two tabs), the second, inside the grace window, can be answered with *the same*
successor as the first without the store ever holding a raw token: the server recomputes it.
Safety:

* without ``secret_key`` the successor is unpredictable even to someone who holds ``T`` (HMAC is a
  PRF), so knowing old tokens gives nothing;
* a leaked store holds only SHA-256 hashes; hashes do not yield tokens, and without the key they
  do not yield successors either;
* what the grace window gives a thief is exactly what any grace window gives: a stolen ``T``
  replayed within ``grace`` seconds of its legitimate use gets the successor. Outside the window,
  or once the successor itself was used, replay is reuse and revokes the family;
* ``secret_key`` must be shared by every process that rotates (pass ``secret=``); with the default
  (random per instance) only a single process can serve the grace path correctly. Rotating the key
  only affects rotations in flight within the grace window.

The rotation rule (:func:`decide`: the one place it is written)
----------------------------------------------------------------
For the presented token (its family and generation ``g``), in this order:

1. unknown hash -> ``unknown``; a family bound to a DPoP key (``jkt``) and no proof from that
   key -> ``unproven`` (refused, nothing written: a stolen refresh token without the key
   neither rotates nor burns the family for the client that holds the key, RFC 9449 5);
   family revoked -> ``revoked``;
2. ``now >= expires_at`` (absolute) or ``now >= last_used + idle`` -> ``expired``;
3. family bound to a session that is no longer live -> ``session``;
4. ``g`` is the family's current generation -> ``rotated`` (generation + 1, last_used = now);
5. ``g`` is the previous generation and the store's clock is within ``grace`` seconds of the
   moment that rotation was applied -> ``grace`` (no write; the caller returns the same
   successor);
6. anything else -> ``reused``: the family is revoked (RFC 9700 reuse detection).

``now`` is the refresh strategy's clock (lifetimes), read after the store was read. The grace
window is measured on one clock, the store's: the rotation records the store's time when it is
applied, and the check compares it with the store's time at the read. A caller that waited for
a lock, or whose clock lags the server that rotated, cannot stretch the window; with ``grace=0``
every repeat is a reuse (strict single use). A ``rotated`` decision is written with a
compare-and-set that applies only if the family is still as read, so of concurrent rotations of
one token exactly one applies; the others read again and decide again (``grace`` or ``reused``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from gatepass.errors import (
    ConfigurationError,
    DPoPBindingMismatch,
    ExpiredToken,
    InvalidToken,
    ReusedToken,
    RevokedToken,
)
from gatepass.stores.records import Family, FamilyRead, SessionRecord
from gatepass.strategies._session_tokens import routing_tag, token_digest
from gatepass.tokens._b64 import b64encode

__all__ = [
    "ReuseEvent",
    "Status",
    "access_jkt",
    "check_secret",
    "decide",
    "family_of",
    "first_token",
    "new_family_id",
    "parse",
    "successor",
    "verdict",
]

Status = Literal[
    "rotated", "grace", "reused", "revoked", "expired", "session", "unknown", "unproven"
]

PREFIX = "rt_"
_TAG = 4
_FAMILY = 22  # 128 bits in base64url: new_family_id()
_SECRET = 43
TOKEN_LENGTH = len(PREFIX) + _TAG + 1 + _FAMILY + 1 + _SECRET
_FORMAT = re.compile(
    rf"{PREFIX}([A-Za-z0-9_-]{{{_TAG}}})\.([A-Za-z0-9_-]{{{_FAMILY}}})~[A-Za-z0-9_-]{{{_SECRET}}}"
)
_HEAD = len(PREFIX) + _TAG + 1 + _FAMILY + 1  # "rt_<tag>.<family>~": kept by successors
_SUCCESSOR_LABEL = b"gatepass refresh successor\x00"


def first_token(user_id: str, family_id: str) -> str:
    """The first token of a new family: its routing tag and id, and 256 random bits."""
    return f"{PREFIX}{routing_tag(user_id)}.{family_id}~{b64encode(secrets.token_bytes(32))}"


def successor(key: bytes, token: str) -> str:
    """The one token that replaces ``token`` (same tag and family); see the module docstring."""
    mac = hmac.new(key, _SUCCESSOR_LABEL + token.encode("ascii"), hashlib.sha256).digest()
    return token[:_HEAD] + b64encode(mac)


def parse(token: object) -> tuple[bytes, str, str] | None:
    """``(sha256, tag, family id)`` of a well-formed refresh token, or None (junk, including
    tokens without a family id, ``rt_<tag>.<secret>``, never reaches a store)."""
    if not isinstance(token, str) or len(token) != TOKEN_LENGTH:
        return None
    match = _FORMAT.fullmatch(token)
    if match is None:
        return None
    return token_digest(token.encode("ascii")), match[1], match[2]


def family_of(token: object) -> str | None:
    """The family id a well-formed refresh token names (not proof that the family exists)."""
    parsed = parse(token)
    return None if parsed is None else parsed[2]


def new_family_id() -> str:
    """128 random bits in base64url (22 characters): the family's id, also carried in its tokens."""
    return b64encode(secrets.token_bytes(16))


def check_secret(secret: bytes | None) -> bytes:
    if secret is None:
        return secrets.token_bytes(32)
    if not isinstance(secret, bytes) or len(secret) < 32:
        raise ConfigurationError("the refresh successor secret must be at least 32 bytes")
    return secret


@dataclass(frozen=True, slots=True)
class ReuseEvent:
    """Passed to ``on_reuse``: a used refresh token came back; its family is now revoked.

    Contains no token: only who, which family and session, and when. Log it, alert the user,
    force re-authentication.
    """

    user_id: str
    family_id: str
    session_id: str | None
    at: float


def session_live(session: SessionRecord | None, now: float) -> bool:
    """Whether a family's session still counts: stored, and within both of its deadlines."""
    return session is not None and now < session.expires_at and now < session.absolute_expires_at


def decide(
    read: FamilyRead, *, now: float, idle: float, grace: float, jkt: str | None = None
) -> Status:
    """The rotation rule (see the module docstring), on one read of the store; ``jkt`` is the
    thumbprint of the key a verified DPoP proof came from, None without one."""
    family = read.family
    if family is None:
        return "unknown"
    if family.jkt is not None and jkt != family.jkt:
        return "unproven"
    if family.revoked:
        return "revoked"
    if now >= family.expires_at or now >= family.last_used_at + idle:
        return "expired"
    if family.sid is not None and not session_live(read.session, now):
        return "session"
    if read.generation == family.generation:
        return "rotated"
    if read.generation == family.generation - 1 and read.store_now < family.rotated_at + grace:
        return "grace"
    return "reused"


def verdict(status: Status) -> None:
    """Raise for every outcome except a rotation or a grace-window repeat."""
    if status in ("rotated", "grace"):
        return
    if status == "unknown":
        raise InvalidToken("unknown refresh token")
    if status == "unproven":
        raise DPoPBindingMismatch(
            "this refresh token is bound to a DPoP key: it needs a DPoP proof from that key"
        )
    if status == "expired":
        raise ExpiredToken("refresh token family expired; sign in again", "exp")
    if status == "session":
        raise RevokedToken("the session of this refresh token has ended")
    if status == "reused":
        raise ReusedToken("refresh token reused: the whole family is now revoked")
    raise RevokedToken("refresh token family has been revoked")


def login_claims(family: Family) -> dict[str, Any] | None:
    """The claims every access token of a family repeats from its login: ``auth_time``, the
    moment the user proved a password (a rotation is not a login, so it must not move)."""
    if family.auth_time is None:
        return None
    return {"auth_time": int(family.auth_time)}


def access_jkt(family: Family, proven: str | None) -> str | None:
    """The key a rotation's access token is bound to: the family's, else the proof's, if any.

    RFC 9449 5 binds the access token of every token request to the proof that came with it,
    refresh grants included. A family bound at login stays bound to that key (:func:`decide`
    refused any other). An unbound family (a login from before the app turned DPoP on, or from
    a client without a key) is *not* bound now, only its new access token is: the first proof
    at an unbound family may be a thief's, and binding the family to it would hand the family
    to the thief and turn the device's next refresh into a refusal ("unproven") instead of the
    reuse that revokes the family. An access token bound to the thief's key gives the thief no
    more than the bearer token the unbound family would give anyway (same lifetime, same
    ``sid``, revoked with the family); the honest page gets a token that script cannot use away
    from its key. A new login binds the new family.
    """
    return family.jkt if family.jkt is not None else proven


def access_sid(family: Family) -> str:
    """The ``sid`` of a family's access tokens: its session's public id, or else the family id.

    A family started without a session is still one login, so its access tokens carry the family
    id as ``sid``: when reuse is detected (or the family is revoked) they are revoked with it,
    and a thief's access token does not outlive the family by up to ``ttl``.
    """
    return family.sid or family.id
