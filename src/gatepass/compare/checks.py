"""One authenticated request of each design, as the server side performs it.

A *check* answers one request: ``None`` when the credential is accepted, else why it was
refused. The revocation probes call checks back to back, in a second process (or thread), to
see when a revocation made elsewhere reaches them. Everything a check needs travels in a
*spec*, a JSON object, so that another process can build the very same check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gatepass import AccessTokens, Key, RefreshTokens, Sessions
from gatepass.errors import ConfigurationError, InvalidToken

ISSUER = "https://auth.compare.local"
AUDIENCE = "api"

#: ``None``: accepted; a string: refused, and why.
Verdict = str | None


class Check:
    """A callable request plus what must be released afterwards (a listener, for example)."""

    def __init__(self, request: Callable[[], Verdict], close: Callable[[], None]) -> None:
        self.request = request
        self.close = close


def session_check(store: Any, spec: Mapping[str, Any]) -> Check:
    sessions = Sessions(store, idle_timeout=spec["idle"], absolute_timeout=spec["absolute"])
    token = spec["token"]

    def request() -> Verdict:
        return None if sessions.get(token) is not None else "no live session"

    return Check(request, lambda: None)


def _access(store: Any, spec: Mapping[str, Any]) -> AccessTokens:
    return AccessTokens(
        Key.from_jwk(spec["jwk"]),
        issuer=ISSUER,
        audience=AUDIENCE,
        ttl=spec["ttl"],
        revocation=spec["mode"],
        store=store,
    )


def access_check(store: Any, spec: Mapping[str, Any]) -> Check:
    access = _access(store, spec)
    token = spec["token"]

    def request() -> Verdict:
        try:
            access.verify(token)
        except InvalidToken as exc:
            return exc.code
        return None

    return Check(request, access.close)


def refresh_check(store: Any, spec: Mapping[str, Any]) -> Check:
    """A client that refreshes again and again, each time with the newest refresh token (and,
    for a family bound to a DPoP key, ``jkt``: the key its verified proofs come from)."""
    access = _access(store, spec)
    refresh = RefreshTokens(store, access, secret=bytes.fromhex(spec["secret"]))
    current = [spec["token"]]
    jkt = spec.get("jkt")

    def request() -> Verdict:
        try:
            current[0], _ = refresh.rotate(current[0], jkt=jkt)
        except InvalidToken as exc:
            return exc.code
        return None

    return Check(request, access.close)


_BUILDERS = {"session": session_check, "access": access_check, "refresh": refresh_check}


def build(store: Any, spec: Mapping[str, Any]) -> Check:
    builder = _BUILDERS.get(spec.get("kind", ""))
    if builder is None:
        raise ConfigurationError(f"unknown check kind {spec.get('kind')!r}")
    return builder(store, spec)
