"""Each design measured the same way: issue a real credential with typical claims, time the
check every request pays, and revoke it while another process (or thread) keeps using it.

Each ``*_row`` function fills in a :class:`Row` made for it (so a failure can still be shown in
its place). Only gatepass's public API is used (``Sessions``, ``AccessTokens``,
``RefreshTokens``, ``Key``), so the numbers are what an application gets.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gatepass import AccessTokens, Key, RefreshTokens, Sessions
from gatepass.compare import headers, revocation, timing
from gatepass.compare.checks import AUDIENCE, ISSUER
from gatepass.compare.probe import ProbeProcess, ThreadProbe
from gatepass.compare.revocation import Revocation, Trial
from gatepass.compare.rows import Attempt, Row
from gatepass.compare.settings import Settings
from gatepass.compare.targets import Target
from gatepass.errors import ConfigurationError, InvalidToken
from gatepass.tokens.dpop import DPoPProof

#: Typical claims: a UUID user id, two scopes, a device summary for "your devices".
SCOPES = ("read", "write")
DEVICE = {"ua": "Firefox 140 on Linux", "ip": "203.0.113.7"}


def new_user() -> str:
    return str(uuid.uuid4())


@dataclass
class Context:
    """What every row builder shares: the settings, one signing key, the probes."""

    settings: Settings
    key: Key = field(init=False)
    refresh_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    _process: ProbeProcess | None = None

    def __post_init__(self) -> None:
        self.key = Key.generate(self.settings.token_alg)

    def probe(self, target: Target) -> revocation.Probe:
        """A thread on the same store for ``memory://``; otherwise the shared second process."""
        if not target.shared:
            return ThreadProbe(target.store)
        if self._process is not None and not self._process.healthy:
            self.close()  # a fresh process for the next row, in step with its requests
        if self._process is None:
            self._process = ProbeProcess()
        assert target.url is not None
        return self._process.at(target.url)

    def observer(self, target: Target) -> str:
        if target.shared:
            return "another process"
        return "another thread: memory:// is one process"

    def time(self, action: Callable[[], object]) -> timing.Cost:
        return timing.measure(action, rounds=self.settings.rounds, batch=self.settings.batch)

    def access(self, keys: Key, mode: str = "stateless", store: Any = None) -> AccessTokens:
        return AccessTokens(
            keys,
            issuer=ISSUER,
            audience=AUDIENCE,
            ttl=self.settings.ttl,
            revocation=mode,
            store=store,
        )

    def close(self) -> None:
        if self._process is not None:
            self._process.close()
            self._process = None


def session_row(row: Row, target: Target, ctx: Context) -> None:
    s = ctx.settings
    sessions = Sessions(target.store, idle_timeout=s.idle, absolute_timeout=s.absolute)
    token, _ = sessions.create(new_user(), metadata=DEVICE)
    row.header = headers.session_cookie(token)
    row.verify_what = f"Sessions.get: SHA-256 of the cookie, one {target.name} lookup"
    row.cost = ctx.time(lambda: sessions.get(token))

    def trial() -> Trial:
        user = new_user()
        fresh, _ = sessions.create(user, metadata=DEVICE)
        spec = {"kind": "session", "token": fresh, "idle": s.idle, "absolute": s.absolute}
        return spec, lambda: sessions.revoke_all(user)

    result = Revocation(
        True, "Sessions.revoke_all (log out everywhere) here", observer=ctx.observer(target)
    )
    row.revocation = revocation.measure(ctx.probe(target), s.trials, trial, result)


def attempt(what: str, action: Callable[[], object]) -> Attempt:
    """Present a copied credential (``action``): refused (with its code) or accepted."""
    try:
        action()
    except InvalidToken as exc:
        return Attempt(what, refused=True, code=exc.code)
    return Attempt(what, refused=False, code=None)


def _signing_key(alg: str) -> tuple[Key, Key]:
    """A signing key and what a verifier holds: the secret itself for HMAC, else the public key."""
    if alg.startswith("HS"):
        secret = Key.from_secret(secrets.token_bytes(32), alg)
        return secret, secret
    key = Key.generate(alg)
    return key, key.public()


def stateless_row(row: Row, alg: str, ctx: Context) -> None:
    s = ctx.settings
    key, verify_key = _signing_key(alg)
    issuer, verifier = ctx.access(key), ctx.access(verify_key)
    user = new_user()
    token = issuer.issue(user, scopes=SCOPES)
    row.header = headers.bearer(token)
    row.verify_what = f"AccessTokens.verify: {alg} signature and claims, no lookup"
    row.cost = ctx.time(lambda: verifier.verify(token))
    row.revocation = _unrevocable(
        lambda: issuer.revoke_user(user),
        lambda: verifier.verify(token),
        "AccessTokens.revoke_user: refused, a stateless token cannot be revoked",
        s,
    )


def _unrevocable(
    revoke: Callable[[], object], verify: Callable[[], object], action: str, s: Settings
) -> Revocation:
    """Try to revoke, then show the credential still works: valid until ``exp``."""
    result = Revocation(False, action, observer="this process", valid_until="exp", ttl_s=s.ttl)
    try:
        revoke()
    except ConfigurationError as exc:
        result.reason = str(exc)
    verify()  # raises InvalidToken if the token were refused after all
    result.still_accepted = True
    return result


def _access_row(row: Row, mode: str, target: Target, ctx: Context) -> None:
    s = ctx.settings
    issuer = ctx.access(ctx.key, mode, target.store)
    verifier = ctx.access(ctx.key.public(), mode, target.store)
    try:
        token = issuer.issue(new_user(), scopes=SCOPES)
        row.header = headers.bearer(token)
        lookup = f"one {target.name} lookup" if mode == "denylist" else "an in-memory lookup"
        row.verify_what = f"AccessTokens.verify: {s.token_alg} signature, claims, {lookup}"
        row.cost = ctx.time(lambda: verifier.verify(token))

        def trial() -> Trial:
            user = new_user()
            fresh = issuer.issue(user, scopes=SCOPES)
            spec = {
                "kind": "access",
                "mode": mode,
                "jwk": ctx.key.public().to_jwk(),
                "ttl": s.ttl,
                "token": fresh,
            }
            return spec, lambda: issuer.revoke_user(user)

        result = Revocation(
            True, "AccessTokens.revoke_user (freeze account) here", observer=ctx.observer(target)
        )
        row.revocation = revocation.measure(ctx.probe(target), s.trials, trial, result)
    finally:
        issuer.close()
        verifier.close()


def denylist_row(row: Row, target: Target, ctx: Context) -> None:
    _access_row(row, "denylist", target, ctx)


def replicated_row(row: Row, target: Target, ctx: Context) -> None:
    _access_row(row, "replicated", target, ctx)


def hybrid_row(row: Row, target: Target, ctx: Context) -> None:
    """The article's hybrid: a stateless 15-minute access JWT and a rotating refresh token."""
    s = ctx.settings
    access, verifier = ctx.access(ctx.key), ctx.access(ctx.key.public())
    refresh = RefreshTokens(target.store, access, secret=ctx.refresh_secret)
    refresh_token, access_token = refresh.start(new_user())
    row.header = headers.bearer(access_token)
    row.refresh_header = headers.refresh_cookie(refresh_token)
    row.verify_what = f"AccessTokens.verify: {s.token_alg} signature and claims, no lookup"
    row.cost = ctx.time(lambda: verifier.verify(access_token))
    current = [refresh_token]

    def rotate() -> None:
        current[0], _ = refresh.rotate(current[0])

    row.rotate_cost = ctx.time(rotate)
    # Copies of another login's tokens, presented by another client: nothing tells them apart.
    stolen_refresh, stolen_access = refresh.start(new_user())
    row.copied = [
        attempt("access token as a bearer token", lambda: verifier.verify(stolen_access)),
        attempt("refresh cookie without a proof", lambda: refresh.rotate(stolen_refresh)),
    ]
    refresh_revocation(row, target, ctx, refresh=refresh, verifier=verifier)


def refresh_revocation(
    row: Row,
    target: Target,
    ctx: Context,
    *,
    refresh: RefreshTokens,
    verifier: AccessTokens,
    jkt: str | None = None,
) -> None:
    """The hybrid's revocation: another process refreshes a family again and again while this
    one revokes it; then the family's last access token, valid until ``exp`` all the same.
    ``jkt``: the families are bound to that DPoP key, and the other process rotates with its
    thumbprint, as the web layer does once it has verified the client's proof."""
    s = ctx.settings
    issued: list[str] = []

    def trial() -> Trial:
        first, access_now = refresh.start(new_user(), jkt=jkt)
        issued[:] = [access_now]
        spec = {
            "kind": "refresh",
            "mode": "stateless",
            "jwk": ctx.key.to_jwk(private=True),
            "ttl": s.ttl,
            "secret": ctx.refresh_secret.hex(),
            "token": first,
            "jkt": jkt,
        }
        return spec, lambda: refresh.revoke(first)

    result = Revocation(True, "RefreshTokens.revoke (log out) here", observer=ctx.observer(target))
    row.revocation = revocation.measure(ctx.probe(target), s.trials, trial, result)
    if issued:
        # What a verified proof from the family's key tells the verifier: its thumbprint.
        proof = None if jkt is None else DPoPProof(jkt, "jti", 0, "ES256")
        row.access_revocation = _unrevocable(
            lambda: None,
            lambda: verifier.verify(issued[0], proof=proof),
            "the family's access token, after the family was revoked",
            s,
        )
