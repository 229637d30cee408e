"""Session tokens and public ids: their format, and what a store keeps of them (pure).

Tokens are ``"<tag>.<secret>"``: ``secret`` is 256 random bits in base64url and ``tag`` is
:func:`routing_tag` of the user id, four base64url characters that put every key of one user in
one Redis Cluster slot. Stores keep only ``sha256(token)``.
"""

from __future__ import annotations

import hashlib
import secrets

from gatepass.tokens._b64 import b64encode

TAG_LENGTH = 4
_SECRET_LENGTH = 43  # 32 random bytes in unpadded base64url
TOKEN_LENGTH = TAG_LENGTH + 1 + _SECRET_LENGTH
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
#: A public id is 128 random bits: 22 base64url characters.
PUBLIC_ID_BYTES = 16
PUBLIC_ID_LENGTH = 22

#: SHA-256 of token bytes: ``sha256(data).digest()``.
sha256 = hashlib.sha256
#: An empty SHA-256 context to copy. With OpenSSL 3, ``hashlib.sha256(data)`` looks the digest up
#: through the provider layer on every call; copying a context made once does not. Alone the
#: difference is 0.04 µs, beside a PostgreSQL round trip 4 µs of a ``get``, 6% of its floor
#: (``bench/bench_sessions.py``), so the session hot path hashes through :func:`token_digest`.
_SHA256 = hashlib.sha256()


def token_digest(data: bytes) -> bytes:
    """``sha256(data).digest()``, from a copy of a prepared context (see :data:`_SHA256`)."""
    context = _SHA256.copy()
    context.update(data)
    return context.digest()


def routing_tag(user_id: str) -> str:
    """Four base64url characters from the user id: the Redis Cluster hash tag of the user's slot.

    Not secret and not meant to be: anyone holding a token could at most confirm a guess of its
    user (24 bits), and only the user (or a thief who already holds the session) has the token.
    """
    return b64encode(sha256(b"gatepass/slot\x00" + user_id.encode()).digest()[:3])


def token_for_tag(tag: str) -> str:
    """A fresh token in the slot ``tag`` (rotation keeps the user's tag)."""
    return f"{tag}.{b64encode(secrets.token_bytes(32))}"


def new_token(user_id: str) -> str:
    return token_for_tag(routing_tag(user_id))


def new_public_id() -> str:
    return b64encode(secrets.token_bytes(PUBLIC_ID_BYTES))


def hash_token(token: str) -> bytes:
    return token_digest(token.encode())


def is_tag(tag: str) -> bool:
    """Whether ``tag`` is a well-formed routing tag: four base64url characters."""
    return (
        len(tag) == TAG_LENGTH and tag.isascii() and (tag.isalnum() or _TOKEN_CHARS.issuperset(tag))
    )


def parse_token(token: object) -> tuple[bytes, str] | None:
    """``(sha256, tag)`` of a well-formed token, or None: malformed input never reaches a store.

    Only the shape and the tag's alphabet are checked (the tag becomes part of a Redis key); the
    secret needs no check: any other string simply hashes to nothing stored.
    """
    if (
        type(token) is not str
        or len(token) != TOKEN_LENGTH
        or token[TAG_LENGTH] != "."
        or not token.isascii()  # also keeps lone surrogates (unencodable) away from encode()
    ):
        return None
    tag = token[:TAG_LENGTH]
    return (token_digest(token.encode()), tag) if is_tag(tag) else None


def is_public_id(value: object) -> bool:
    """Whether ``value`` could be a session's public ``id`` (anything else matches nothing, so
    ``revoke(id, user_id=...)`` answers False without I/O instead of handing a driver NUL bytes
    or unencodable text)."""
    return (
        type(value) is str
        and len(value) == PUBLIC_ID_LENGTH
        and value.isascii()
        and _TOKEN_CHARS.issuperset(value)
    )
