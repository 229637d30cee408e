"""gatepass: how should your app track login state? Every answer, done right.

Layers, bottom to top (imports point down only):

``gatepass.tokens``      pure JWS/JWT: keys, signing, verification. No I/O.
``gatepass.stores``      where login state lives: memory, SQLite, Redis, PostgreSQL.
``gatepass.strategies``  sessions, access tokens, refresh tokens, revocation, JWKS client.
``gatepass.web``         cookies, CSRF, ASGI/WSGI middleware, endpoints, framework adapters.
``gatepass.cli`` / ``gatepass.tools`` / ``gatepass.demo``  the command, the browser page, the app.

The token layer is imported eagerly (it needs only ``cryptography``); everything above it is
imported on first use so that ``import gatepass`` never needs an optional extra.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gatepass.errors import (
    AlgorithmMismatch,
    AmbiguousKey,
    BadSignature,
    ClaimError,
    ConfigurationError,
    DPoPBindingMismatch,
    DPoPNonceRequired,
    DPoPProofOutOfWindow,
    DPoPProofReplayed,
    DPoPRequestMismatch,
    ExpiredToken,
    GatepassError,
    InvalidAudience,
    InvalidDPoPProof,
    InvalidIssuer,
    InvalidKey,
    InvalidToken,
    InvalidType,
    JWKSFetchError,
    KeyNotFound,
    KeyUsageError,
    MalformedToken,
    MissingClaim,
    MissingDependency,
    NotYetValid,
    ReplayCacheFull,
    ReusedToken,
    RevokedToken,
    StoreError,
    StoreUnavailable,
    TokenTooLarge,
    UnknownCriticalHeader,
    UnsupportedAlgorithm,
)
from gatepass.tokens import dpop, jws, jwt
from gatepass.tokens.keys import Key, KeySet

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from gatepass.stores import open_async_store, open_store
    from gatepass.strategies.access import AccessTokens, AsyncAccessTokens
    from gatepass.strategies.jwks_client import AsyncJWKSClient, JWKSClient
    from gatepass.strategies.keyring import KeyRing
    from gatepass.strategies.refresh import AsyncRefreshTokens, RefreshTokens
    from gatepass.strategies.sessions import AsyncSessions, Sessions

__version__ = "0.1.0"

# name -> module that defines it; imported on first attribute access.
_LAZY: dict[str, str] = {
    "open_store": "gatepass.stores",
    "open_async_store": "gatepass.stores",
    "Sessions": "gatepass.strategies.sessions",
    "AsyncSessions": "gatepass.strategies.sessions",
    "AccessTokens": "gatepass.strategies.access",
    "AsyncAccessTokens": "gatepass.strategies.access",
    "RefreshTokens": "gatepass.strategies.refresh",
    "AsyncRefreshTokens": "gatepass.strategies.refresh",
    "KeyRing": "gatepass.strategies.keyring",
    "JWKSClient": "gatepass.strategies.jwks_client",
    "AsyncJWKSClient": "gatepass.strategies.jwks_client",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gatepass' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "AccessTokens",
    "AlgorithmMismatch",
    "AmbiguousKey",
    "AsyncAccessTokens",
    "AsyncJWKSClient",
    "AsyncRefreshTokens",
    "AsyncSessions",
    "BadSignature",
    "ClaimError",
    "ConfigurationError",
    "DPoPBindingMismatch",
    "DPoPNonceRequired",
    "DPoPProofOutOfWindow",
    "DPoPProofReplayed",
    "DPoPRequestMismatch",
    "ExpiredToken",
    "GatepassError",
    "InvalidAudience",
    "InvalidDPoPProof",
    "InvalidIssuer",
    "InvalidKey",
    "InvalidToken",
    "InvalidType",
    "JWKSClient",
    "JWKSFetchError",
    "Key",
    "KeyNotFound",
    "KeyRing",
    "KeySet",
    "KeyUsageError",
    "MalformedToken",
    "MissingClaim",
    "MissingDependency",
    "NotYetValid",
    "RefreshTokens",
    "ReplayCacheFull",
    "ReusedToken",
    "RevokedToken",
    "Sessions",
    "StoreError",
    "StoreUnavailable",
    "TokenTooLarge",
    "UnknownCriticalHeader",
    "UnsupportedAlgorithm",
    "dpop",
    "jws",
    "jwt",
    "open_async_store",
    "open_store",
]
