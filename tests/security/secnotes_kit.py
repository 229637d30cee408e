"""Helpers for the security-notes tests: a settable clock, hand-forged tokens, a store dump.

Imported as a plain module (like ``tests/tokens/tokhelp.py``); the name is unique in the tree so
that pytest's rootdir-less imports never pick another helper of the same name.
"""

from __future__ import annotations

import base64
import hmac
import json
from pathlib import Path
from typing import Any

from gatepass import Key

ISS, AUD = "https://auth.example", "api"


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def forge(key: Key, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A compact JWS whose signature is genuinely valid for ``key`` over exactly these bytes."""
    signing_input = (
        f"{b64e(json.dumps(header, separators=(',', ':')).encode())}."
        f"{b64e(json.dumps(claims, separators=(',', ':')).encode())}"
    )
    return f"{signing_input}.{b64e(key.sign(signing_input.encode('ascii')))}"


def forge_hmac(secret: bytes, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """An HMAC-signed token made the way an attacker makes it: with any bytes as the secret."""
    digest = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}[header["alg"]]
    signing_input = (
        f"{b64e(json.dumps(header, separators=(',', ':')).encode())}."
        f"{b64e(json.dumps(claims, separators=(',', ':')).encode())}"
    )
    return f"{signing_input}.{b64e(hmac.digest(secret, signing_input.encode(), digest))}"


def secret_parts(token: str) -> list[str]:
    """Substrings that must never appear anywhere: the random part of an opaque token, in
    pieces of 8 characters (so a 24-character prefix of it would be caught too). A refresh
    token's family id (``rt_<tag>.<family id>~<secret>``) is public, as the family's id."""
    secret = token.rsplit(".", 1)[1].rsplit("~", 1)[-1]
    return [secret[i : i + 8] for i in range(0, len(secret) - 7, 4)]


def everything_said(exc: BaseException) -> str:
    """All text an exception could put into a log: message, repr, attributes, causes."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts += [str(current), repr(current), repr(current.args), repr(vars(current))]
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


def dump_store(store: Any) -> bytes:
    """Every byte the backend holds for this store: what a leaked database or backup contains."""
    kind = store.kind
    if kind == "memory":
        names = ("sessions", "users", "refresh_families", "refresh_tokens", "revocations")
        return repr({name: store.table(name) for name in names}).encode()
    if kind == "sqlite":
        path = Path(store.path)
        out = b""
        for suffix in ("", "-wal", "-shm"):
            part = path.with_name(path.name + suffix)
            if part.exists():
                out += part.read_bytes()
        return out
    if kind == "redis":
        client = store.client
        out = b""
        for key in client.scan_iter(match=f"{store.prefix}*", count=1000):
            kind_of = client.type(key)
            if kind_of == b"hash":
                value = repr(client.hgetall(key)).encode()
            elif kind_of == b"zset":
                value = repr(client.zrange(key, 0, -1, withscores=True)).encode()
            else:
                value = client.get(key) or b""
            out += key + b"=" + value + b"\n"
        return out
    assert kind == "postgres", kind
    with store.connection() as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename LIKE %s",
            (store.schema, store.prefix + "%"),
        ).fetchall()
        rows: list[str] = []
        for (name,) in tables:
            query = f'SELECT t::text FROM "{store.schema}"."{name}" t'
            rows += [r[0] for r in conn.execute(query).fetchall()]
    return "\n".join(rows).encode()
