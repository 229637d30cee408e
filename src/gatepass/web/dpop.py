"""DPoP in the web layer (RFC 9449): the policy an app sets, and the proof check every plan shares.

    gp = Gatepass(refresh_tokens=refresh, dpop=DPoPPolicy(replay=store), ...)

With a policy, a request may present its access token as ``Authorization: DPoP <token>`` with a
``DPoP: <proof>`` header; the proof is verified for this request's method and URL and the token's
hash (``ath``), and the token must be bound to the proof's key (``cnf.jkt``). A token bound to a key
is refused as a plain ``Bearer`` token (RFC 9449 7.2), so no route can forget the binding;
``required=True`` refuses bearer tokens altogether. The hybrid's login and refresh bind the access
token and the refresh family to the key of the proof that came with them, and a bound family
rotates only with a proof from its key.

Server nonces (``nonce=True``): a proof must carry the server's current ``DPoP-Nonce`` (RFC 9449
8, 9), so a script that once ran in the page cannot have signed proofs for later. The nonces are
stateless: an HMAC of the current time window under the app's ``secret``, so every process of
the app issues and accepts the same ones without sharing state; the previous window's nonce is
still accepted, so a client that just got one never races the rotation.

Replay: ``replay=None`` keeps proof ids in this process (:class:`MemoryReplayCache`), which a proof
replayed to another worker or server does not see; pass the app's store (``open_store`` /
``open_async_store``) to share them (one round trip per proof), or any object with
``seen(proof_id, expires_at)``.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import math
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from gatepass.errors import (
    ConfigurationError,
    DPoPNonceRequired,
    DPoPRequestMismatch,
    InvalidDPoPProof,
    InvalidToken,
)
from gatepass.strategies.dpop import AsyncStoreReplayCache, StoreReplayCache
from gatepass.tokens._b64 import b64encode
from gatepass.tokens._htu import HtuError, is_authority
from gatepass.tokens._htu import normalize_htu as normal_url
from gatepass.tokens.dpop import (
    ASYMMETRIC_ALGORITHMS,
    DEFAULT_LEEWAY,
    DEFAULT_MAX_AGE,
    AsyncDPoPVerifier,
    DPoPProof,
    DPoPVerifier,
)
from gatepass.tokens.dpop_replay import MemoryReplayCache
from gatepass.web.drive import Plan
from gatepass.web.http import Request
from gatepass.web.problems import Problem

__all__ = ["DPoPPolicy", "DPoPSetup", "authorization"]

_NONCE_LABEL = b"gatepass dpop nonce\x00"
#: The URL scheme of a request's scheme as a server reports it (ASGI: ``ws``/``wss`` too).
_HTTP_SCHEME = {"http": "http", "https": "https", "ws": "http", "wss": "https"}


@dataclass(frozen=True)
class DPoPPolicy:
    """How an app accepts DPoP. See the module docstring and ``docs/dpop.md``.

    ``required``: only DPoP-bound tokens are accepted (a bearer token is refused, and the hybrid's
    login and refresh need a proof); otherwise bearer and DPoP both work, and a token bound to a
    key is still refused as bearer. ``algorithms``: the proof algorithms accepted (asymmetric
    only), announced in ``WWW-Authenticate: DPoP algs="..."``. ``replay``: the replay cache (None:
    this process only; a store: shared). ``nonce``: require server nonces, rotated every
    ``nonce_lifetime`` seconds. ``max_age`` / ``leeway``: a proof's accepted age and how far its
    ``iat`` may lead this server's clock. ``origin``: the public base URL the client addresses
    (``https://app.example``) when the app sees another one behind a proxy, with the path
    prefix the proxy strips when the app is not told about it (``https://app.example/api``:
    ``/api`` goes in front of every path); default: the request's scheme and ``Host``.
    ``clock``: the time every DPoP judgement here uses (proof windows, nonces, replay expiry).
    """

    required: bool = False
    algorithms: tuple[str, ...] = ASYMMETRIC_ALGORITHMS
    replay: object = None
    nonce: bool = False
    nonce_lifetime: float = 300.0
    max_age: float = DEFAULT_MAX_AGE
    leeway: float = DEFAULT_LEEWAY
    origin: str | None = None
    clock: Callable[[], float] = time.time


def _replay_cache(replay: object, clock: Callable[[], float]) -> Any:
    if replay is None:  # expiring ids by the clock that judges the proofs (the cache's contract)
        return MemoryReplayCache(clock=clock)
    add = getattr(replay, "proof_add", None)
    if callable(add):  # a gatepass store: share the proof ids through it
        if inspect.iscoroutinefunction(add):
            return AsyncStoreReplayCache(replay, clock=clock)  # type: ignore[arg-type]
        return StoreReplayCache(replay, clock=clock)  # type: ignore[arg-type]
    if not callable(getattr(replay, "seen", None)):
        raise ConfigurationError(
            "DPoPPolicy(replay=...) takes None, a store from open_store()/open_async_store(), "
            "or a replay cache with seen(proof_id, expires_at)"
        )
    return replay


def _external_base(origin: object) -> str:
    """The configured public base URL in normal form, without a trailing ``/``: an origin,
    or an origin and the path prefix a proxy strips without telling the app."""
    if not isinstance(origin, str) or "?" in origin or "#" in origin:
        raise ConfigurationError(
            "DPoPPolicy(origin=...) is the public base URL: scheme://host[:port][/prefix], "
            "without a query or fragment"
        )
    try:
        normal = normal_url(origin)
    except HtuError as exc:
        raise ConfigurationError(f"DPoPPolicy(origin=...) {exc}") from None
    return normal.rstrip("/")


def authorization(request: Request) -> tuple[str, str] | None:
    """``(scheme, token)`` of an ``Authorization: Bearer`` or ``DPoP`` header (scheme lower-case,
    matched case-insensitively), else None."""
    value = request.headers.get("authorization")
    if value is None:
        return None
    scheme, _, token = value.partition(" ")
    scheme = scheme.lower()
    if scheme not in ("bearer", "dpop"):
        return None
    return scheme, token.strip()


class DPoPSetup:
    """A :class:`DPoPPolicy` made ready by :class:`~gatepass.web.Gatepass`: the verifier, the
    nonce key, the challenge text. Built once; everything per request is in :meth:`verify`."""

    def __init__(self, policy: DPoPPolicy, secret: bytes) -> None:
        if not isinstance(policy, DPoPPolicy):
            raise ConfigurationError("dpop must be a gatepass.web.DPoPPolicy")
        lifetime = policy.nonce_lifetime
        if type(lifetime) not in (int, float) or not math.isfinite(lifetime) or lifetime < 10:
            raise ConfigurationError("nonce_lifetime must be at least 10 seconds")
        self.policy = policy
        self.required = bool(policy.required)
        self.origin = None if policy.origin is None else _external_base(policy.origin)
        cache = _replay_cache(policy.replay, policy.clock)
        self.asynchronous = inspect.iscoroutinefunction(getattr(cache, "seen", None))
        kind = AsyncDPoPVerifier if self.asynchronous else DPoPVerifier
        self.verifier: DPoPVerifier | AsyncDPoPVerifier = kind(
            replay=cache,
            algorithms=policy.algorithms,
            max_age=policy.max_age,
            leeway=policy.leeway,
            clock=policy.clock,
        )
        self.algs = " ".join(self.verifier.algorithms)
        self._nonce_key = hmac.new(secret, _NONCE_LABEL, hashlib.sha256).digest()
        self._nonces: tuple[int, tuple[str, str]] = (-1, ("", ""))

    # --- nonces -----------------------------------------------------------------------------

    def _nonce(self, window: int) -> str:
        packed = struct.pack(">Q", window)
        mac = hmac.new(self._nonce_key, packed, hashlib.sha256).digest()[:16]
        return b64encode(packed[4:] + mac)

    def nonces(self) -> tuple[str, str] | None:
        """``(current, previous)`` nonces, or None when nonces are off (made once per window)."""
        if not self.policy.nonce:
            return None
        window = int(self.policy.clock() // self.policy.nonce_lifetime)
        cached_window, pair = self._nonces
        if cached_window != window:
            pair = (self._nonce(window), self._nonce(window - 1))
            self._nonces = (window, pair)
        return pair

    def current_nonce(self) -> str | None:
        pair = self.nonces()
        return None if pair is None else pair[0]

    # --- the check --------------------------------------------------------------------------

    def url(self, request: Request) -> str:
        """The URL the client addressed: the configured public base (origin, and the prefix a
        proxy stripped without telling the app), or the request's own origin; then the path
        as the client spelled it (``%20`` stays ``%20``, as in the proof), which includes the
        mount point the app *was* told (``root_path``, ``SCRIPT_NAME``).

        The request's own origin is built only from a ``Host`` that is a host and port: one
        such as ``other.example/api`` or ``app.example?`` would move the client's text into
        the path or the query, and a proof for ``other.example/api/me`` (or for ``/`` of any
        host) would pass at ``/me``. A WebSocket handshake is an HTTP request to the
        ``http(s)`` URL of its ``ws(s)`` one (RFC 6455 3), so that is what its proof names."""
        origin = self.origin
        if origin is None:
            scheme = _HTTP_SCHEME.get(request.scheme)
            if scheme is None or not is_authority(request.host):
                raise DPoPRequestMismatch(
                    "the request's scheme or Host header is not one a URL can name", "htu"
                )
            origin = f"{scheme}://{request.host}"
        return f"{origin}{request.target()}"

    def verify(self, request: Request, access_token: str | None) -> Plan[DPoPProof | None]:
        """The verified proof of ``request`` (for ``access_token`` when one travels), None when
        it carries no ``DPoP`` header; :class:`~gatepass.errors.InvalidDPoPProof` (its subclass
        :class:`DPoPNonceRequired` when a nonce is missing or stale) otherwise. A repeated
        header arrives joined with a comma, which no proof can contain: refused."""
        proof = request.headers.get("dpop")
        if proof is None:
            return None
        proof = proof.strip()
        if not proof:
            raise InvalidDPoPProof("the DPoP header is empty")
        url = self.url(request)
        verified: DPoPProof = yield self.verifier.verify(
            proof,
            method=request.method,
            url=url,
            access_token=access_token,
            nonce=self.nonces(),
        )
        return verified

    # --- answers ------------------------------------------------------------------------------

    def challenge(self, error: str | None = None, detail: str = "") -> str:
        """A ``WWW-Authenticate: DPoP`` challenge (RFC 9449 7.1) naming the accepted ``algs``."""
        parts = []
        if error is not None:
            parts.append(f'error="{error}"')
            safe = "".join(ch for ch in detail if " " <= ch < "\x7f" and ch not in '"\\')[:120]
            if safe:
                parts.append(f'error_description="{safe}"')
        parts.append(f'algs="{self.algs}"')
        return "DPoP " + ", ".join(parts)

    def nonce_headers(self) -> tuple[tuple[str, str], ...]:
        """``DPoP-Nonce: <current>`` when nonces are on: sent with every answer to a DPoP
        client, which uses it in its next proof."""
        nonce = self.current_nonce()
        return () if nonce is None else (("dpop-nonce", nonce),)


def token_endpoint_jkt(setup: DPoPSetup | None, request: Request) -> Plan[str | None]:
    """The key a login or refresh proved (its proof: ``POST`` and this endpoint's URL, no
    token), None when none came and none is required. A refusal is a 400 with the OAuth token
    endpoint's ``error`` (RFC 9449 5, 8), ``DPoP-Nonce`` included when a nonce is wanted."""
    if setup is None:
        return None
    try:
        proof = yield from setup.verify(request, None)
        if proof is None and setup.required:
            raise InvalidDPoPProof("this app requires DPoP: send a DPoP proof with the request")
    except InvalidDPoPProof as exc:
        raise refusal(setup, exc, 400) from None
    return None if proof is None else proof.jkt


def refusal(setup: DPoPSetup, exc: InvalidToken, status: int) -> Problem:
    """The answer to a refused proof or bound token (``status``: 401 at a resource, 400 at the
    token endpoints), with the current nonce when a nonce is what is missing."""
    error = error_of(exc) if isinstance(exc, InvalidDPoPProof) else "invalid_dpop_proof"
    return Problem.dpop(
        status,
        error,
        code=exc.code,
        detail=str(exc),
        challenge=setup.challenge(error, str(exc)),
        headers=setup.nonce_headers() if error == "use_dpop_nonce" else (),
    )


def error_of(exc: InvalidDPoPProof) -> Literal["invalid_dpop_proof", "use_dpop_nonce"]:
    """The RFC 9449 error code of a refused proof."""
    return "use_dpop_nonce" if isinstance(exc, DPoPNonceRequired) else "invalid_dpop_proof"
