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

The rotation rule (:func:`gatepass.stores.refresh_state.decide`, mirrored in Lua and PL/pgSQL)
---------------------------------------------------------------------------------------------
For the presented token (its family and generation ``g``), in this order:

1. unknown hash -> ``unknown``; family revoked -> ``revoked``;
2. ``now >= expires_at`` (absolute) or ``now >= last_used + idle`` -> ``expired``;
3. family bound to a session that is no longer live -> ``session``;
4. ``g`` is the family's current generation -> ``rotated`` (generation + 1, last_used = now);
5. ``g`` is the previous generation and ``now < rotated_at + grace`` -> ``grace`` (no write; the
   caller returns the same successor);
6. anything else -> ``reused``: the family is revoked (RFC 9700 reuse detection).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from gatepass.errors import ConfigurationError
from gatepass.stores.records import routing_tag, sha256
from gatepass.stores.refresh_state import Family, Outcome, Status, decide

__all__ = [
    "Family",
    "Outcome",
    "ReuseEvent",
    "Status",
    "check_secret",
    "decide",
    "first_token",
    "new_family_id",
    "parse",
    "successor",
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


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def first_token(user_id: str, family_id: str) -> str:
    """The first token of a new family: its routing tag and id, and 256 random bits."""
    return f"{PREFIX}{routing_tag(user_id)}.{family_id}~{_b64(secrets.token_bytes(32))}"


def successor(key: bytes, token: str) -> str:
    """The one token that replaces ``token`` (same tag and family); see the module docstring."""
    mac = hmac.new(key, _SUCCESSOR_LABEL + token.encode("ascii"), hashlib.sha256).digest()
    return token[:_HEAD] + _b64(mac)


def parse(token: object) -> tuple[bytes, str, str] | None:
    """``(sha256, tag, family id)`` of a well-formed refresh token, or None (junk, including the
    old ``rt_<tag>.<secret>`` format, never reaches a store)."""
    if not isinstance(token, str) or len(token) != TOKEN_LENGTH:
        return None
    match = _FORMAT.fullmatch(token)
    if match is None:
        return None
    return sha256(token.encode("ascii")).digest(), match[1], match[2]


def new_family_id() -> str:
    """128 random bits in base64url (22 characters): the family's id, also carried in its tokens."""
    return _b64(secrets.token_bytes(16))


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
