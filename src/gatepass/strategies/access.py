"""Short-lived access tokens (RFC 9068 JWTs) with a choice of revocation, sync and async.

>>> ring = KeyRing.generate("ES256")
>>> tokens = AccessTokens(ring, issuer="https://auth.example", audience="api")
>>> token = tokens.issue("user-42", scopes=["read"])
>>> tokens.verify(token)["sub"]
'user-42'

Every token has header ``typ: at+jwt`` and ``verify`` requires it, so an ID token, a plain JWT
or a refresh token (opaque, not a JWT at all) can never pass as an access token. Claims: ``iss``,
``aud``, ``sub``, ``iat``, ``exp``, ``jti`` (128 random bits), ``sid`` when tied to a session,
``scope`` (space-separated), and ``iat_us`` (issue time in microseconds, which makes per-user
cut-offs exact within a second; see :mod:`gatepass.strategies._access_policy`).

``revocation`` picks what ``verify`` costs and what ``revoke`` can do (details in
:mod:`gatepass.strategies.revocation` and ``docs/access-tokens.md``): ``"stateless"`` (no lookup,
no revocation), ``"denylist"`` (one store round trip per verify), ``"replicated"`` (no I/O per
verify; changes reach every process through the store's change stream; fails closed while that
stream is broken). The replicated mode runs a listener thread (task): call :meth:`close` or use
the object as a context manager.

``keys`` may be a :class:`KeyRing` (sign with its active key, verify with all its keys), a single
private :class:`Key`, or, for services that only verify, a :class:`KeySet`, a public ``Key``
or a :class:`JWKSClient` / :class:`AsyncJWKSClient`.
"""

from __future__ import annotations

from gatepass.strategies._access_core import KeySource, session_id
from gatepass.strategies._async.access import AsyncAccessTokens
from gatepass.strategies._sync.access import AccessTokens

__all__ = ["AccessTokens", "AsyncAccessTokens", "KeySource", "session_id"]
