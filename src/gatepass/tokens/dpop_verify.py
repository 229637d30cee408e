"""Verifying DPoP proofs (RFC 9449 4.3): :class:`DPoPVerifier` and :class:`AsyncDPoPVerifier`.

This is the one place in gatepass where a key comes from a token header (``jwk``): the proof
proves possession of *that* key, and only its thumbprint is trusted afterwards. Verification
order, the security argument, written out once:

1. the proof's **size** (4 KiB by default), before any decoding; three canonical base64url
   segments; header and claims strict JSON (duplicate names refused);
2. header: ``typ`` exactly ``dpop+jwt`` (RFC 8725 3.11: no other JWT passes as a proof); ``alg``
   from the verifier's allow-list, which can only hold asymmetric algorithms (never ``none``,
   never HMAC); no ``crit``; no ``jku``/``x5u``/``x5c``/``x5t`` (the key is named once, by value;
   a ``kid`` is never looked up); ``jwk`` a *public* key (any private member refused) whose type
   and curve fit ``alg``, made a :class:`~gatepass.tokens.keys.Key` bound to that ``alg``;
3. the signature, with that key;
4. claims: ``jti`` (a non-empty string of bounded length), ``htm``, ``htu``, ``iat`` present and
   typed; ``htm`` equal to the request method; ``htu`` equal to the request URL in the strict
   normal form of :mod:`gatepass.tokens._htu`; ``iat`` no older than ``max_age`` and no further
   ahead than ``leeway``; ``ath`` equal to the presented access token's hash; ``nonce`` one the
   server accepts;
5. last, the replay cache (:mod:`gatepass.tokens.dpop_replay`): only a proof that passed
   everything else takes a slot, so forgeries cannot fill the cache or burn a client's ids.

Every failure raises :class:`~gatepass.errors.InvalidDPoPProof` or a subclass; no I/O happens
here except what the replay cache chosen by the caller does. The sync and asyncio fronts share
every check (:class:`_ProofChecks`); they differ only in how they ask the replay cache.
"""

from __future__ import annotations

import hashlib
import inspect
import threading
import time
from collections.abc import Callable, Collection, Iterable
from typing import Any, NamedTuple, TypeVar

from gatepass.errors import (
    ConfigurationError,
    DPoPNonceRequired,
    DPoPProofOutOfWindow,
    DPoPProofReplayed,
    DPoPRequestMismatch,
    InvalidDPoPProof,
    InvalidKey,
    InvalidToken,
    MalformedToken,
    quote_prefix,
)
from gatepass.tokens._b64 import b64decode, b64encode
from gatepass.tokens._htu import HtuError, normalize_htu, without_query
from gatepass.tokens._json import loads_object
from gatepass.tokens._numbers import finite_real, finite_seconds
from gatepass.tokens.algorithms import ALGORITHM_SPECS
from gatepass.tokens.dpop_replay import AsyncReplayCache, ReplayCache
from gatepass.tokens.jws import as_text, check_header, split_compact
from gatepass.tokens.keys import Key

DPOP_TYP = "dpop+jwt"
ASYMMETRIC_ALGORITHMS: tuple[str, ...] = tuple(
    name for name, spec in ALGORITHM_SPECS.items() if spec.family != "HMAC"
)
"""Every algorithm a proof may use here; the default allow-list."""
DEFAULT_MAX_SIZE = 4096
"""A proof with an RSA-8192 key still fits; an ES256 proof is about 600 bytes."""
DEFAULT_MAX_AGE = 60.0
DEFAULT_LEEWAY = 5.0
DEFAULT_MAX_JTI_LENGTH = 128

_PRIVATE_JWK_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_KEY_LOCATION_HEADERS = ("jku", "x5u", "x5c", "x5t", "x5t#S256")
_CACHE_SIZE = 1024
_V = TypeVar("_V")


class DPoPProof(NamedTuple):
    """A verified proof: who proved possession (``jkt``) with which proof (``jti``, ``iat``).

    ``jkt`` is the RFC 7638 SHA-256 thumbprint of the proof's key: the value a bound token
    carries in ``cnf.jkt`` and the only thing about the key worth keeping.
    """

    jkt: str
    jti: str
    iat: int | float
    alg: str


def access_token_hash(access_token: str) -> str:
    """The ``ath`` value for ``access_token``: base64url(SHA-256(its ASCII)) (RFC 9449 4.2)."""
    if not isinstance(access_token, str):
        raise ConfigurationError("the access token must be a str")
    try:
        raw = access_token.encode("ascii")
    except UnicodeEncodeError:
        raise MalformedToken("an access token is ASCII text") from None
    return b64encode(hashlib.sha256(raw).digest())


def _remember(cache: dict[str, _V], lock: threading.Lock, name: str, value: _V) -> _V:
    """Add to a bounded cache, forgetting the oldest entry when full (readers take no lock)."""
    with lock:
        if len(cache) >= _CACHE_SIZE:
            del cache[next(iter(cache))]
        cache[name] = value
    return value


def _items(value: object) -> tuple[Any, ...]:
    """A setting that is one str or a collection of them, as a tuple of what it holds (checked
    by the caller): a str, or anything that is not a collection (``True``), is one item."""
    if isinstance(value, Iterable) and not isinstance(value, str):
        return tuple(value)
    return (value,)


class _ProofChecks:
    """Configuration, caches and every check except the replay cache: shared by both fronts."""

    def __init__(
        self,
        *,
        algorithms: str | Iterable[str],
        max_age: float,
        leeway: float,
        max_size: int,
        max_jti_length: int,
        clock: Callable[[], float],
    ) -> None:
        names = _items(algorithms)  # checked next
        if not names or not all(n in ASYMMETRIC_ALGORITHMS for n in names):
            raise ConfigurationError(
                f"DPoP algorithms must be a non-empty choice of {', '.join(ASYMMETRIC_ALGORITHMS)}"
                " (never none, never HMAC: RFC 9449 4.2)"
            )
        for name, value, low in (("max_age", max_age, 0.0), ("leeway", leeway, -1e-9)):
            seconds = finite_real(value) if type(value) in (int, float) else None
            if seconds is None or seconds <= low:
                raise ConfigurationError(f"{name} must be a finite number of seconds (> {low:g})")
        for name, size in (("max_size", max_size), ("max_jti_length", max_jti_length)):
            if type(size) is not int or size < 1:
                raise ConfigurationError(f"{name} must be a positive integer")
        if not callable(clock):
            raise ConfigurationError("clock must be a callable returning seconds since the epoch")
        self.algorithms = names
        self.max_age, self.leeway = float(max_age), float(leeway)
        self.max_size, self.max_jti_length, self.clock = max_size, max_jti_length, clock
        self._headers: dict[str, tuple[str, Key, str, Any]] = {}
        self._urls: dict[str, str] = {}
        self._aths: dict[str, str] = {}
        self._lock = threading.Lock()

    def request_htu(self, url: str) -> str:
        if not isinstance(url, str):
            raise ConfigurationError("url must be the request URL as a str")
        base = without_query(url)
        normal = self._urls.get(base)
        if normal is None:
            try:
                normal = normalize_htu(base)
            except HtuError as exc:
                if not base[:8].lower().startswith(("http://", "https://")):
                    raise ConfigurationError(
                        "url must be the absolute request URL (scheme://host/path)"
                    ) from None
                raise DPoPRequestMismatch(
                    f"the request URL {exc}; no proof can match it", "htu"
                ) from None
            _remember(self._urls, self._lock, base, normal)
        return normal

    def proof_htu(self, htu: str) -> str:
        normal = self._urls.get(htu)
        if normal is None:
            try:
                normal = normalize_htu(without_query(htu))
            except HtuError as exc:
                raise InvalidDPoPProof(f"claim 'htu' {exc}") from None
            _remember(self._urls, self._lock, htu, normal)
        return normal

    def access_hash(self, access_token: str) -> str:
        """``ath`` of a token, cached: a client presents the same token for its whole life."""
        if type(access_token) is not str:
            return access_token_hash(access_token)  # refuses it, naming the mistake
        ath = self._aths.get(access_token)
        if ath is None:
            ath = _remember(self._aths, self._lock, access_token, access_token_hash(access_token))
        return ath

    def header(self, segment: str) -> tuple[str, Key, str, Any]:
        """``(alg, key, jkt, id_hash)`` for a header segment (``id_hash``: SHA-256 fed with
        ``jkt.``, copied per proof to derive its replay id); validated headers are cached by
        their text."""
        cached = self._headers.get(segment)
        if cached is not None:
            return cached
        header = loads_object(b64decode(segment, "header"), "header")
        check_header(header)
        if header.get("typ") != DPOP_TYP:
            raise InvalidDPoPProof(
                f"header typ is {quote_prefix(header.get('typ'))}, not 'dpop+jwt'"
            )
        alg = header["alg"]
        if alg not in self.algorithms:
            raise InvalidDPoPProof(
                f"alg {quote_prefix(alg, 16)} is not accepted for DPoP proofs here "
                f"(accepted: {' '.join(self.algorithms)})"
            )
        locations = [name for name in _KEY_LOCATION_HEADERS if name in header]
        if locations:
            raise InvalidDPoPProof(
                f"header names its key by {', '.join(locations)}; a proof names it once, in 'jwk'"
            )
        jwk = header.get("jwk")
        if type(jwk) is not dict:
            raise InvalidDPoPProof(
                "header 'jwk' (the proof's public key) is missing or not an object"
            )
        if any(member in jwk for member in _PRIVATE_JWK_MEMBERS):
            raise InvalidDPoPProof("header 'jwk' holds private key material; it must be public")
        try:
            key = Key.from_jwk(jwk, alg=alg)
        except InvalidKey as exc:
            raise InvalidDPoPProof(
                f"header 'jwk' is not a usable {alg} public key: {exc}"
            ) from None
        if not key.can_verify:
            raise InvalidDPoPProof("header 'jwk' has key_ops that exclude verify")
        jkt = key.thumbprint()
        id_hash = hashlib.sha256(f"{jkt}.".encode("ascii"))
        return _remember(self._headers, self._lock, segment, (alg, key, jkt, id_hash))

    def check(
        self,
        proof: str | bytes,
        *,
        method: str,
        url: str,
        access_token: str | None,
        nonce: str | Collection[str] | None,
        now: float | None,
    ) -> tuple[DPoPProof, str, float]:
        """Every check but replay: ``(result, proof_id, expires_at)`` for the replay cache."""
        if not isinstance(method, str) or not method:
            raise ConfigurationError("method must be the request's HTTP method, e.g. 'GET'")
        expected_htu = self.request_htu(url)
        expected_ath = None if access_token is None else self.access_hash(access_token)
        nonces = None if nonce is None else _items(nonce)  # no ABC test while nonces are off
        if nonces is not None and not all(isinstance(n, str) for n in nonces):
            raise ConfigurationError("nonce must be a str or a collection of str")
        try:
            text = as_text(proof, self.max_size)
            header_seg, payload_seg, signature_seg = split_compact(text)
            alg, key, jkt, id_hash = self.header(header_seg)
            claims = loads_object(b64decode(payload_seg, "payload"), "claims")
            signature = b64decode(signature_seg, "signature")
        except InvalidDPoPProof:
            raise
        except InvalidToken as exc:
            raise InvalidDPoPProof(f"DPoP proof: {exc}") from None
        if not key.verify(text[: len(header_seg) + 1 + len(payload_seg)].encode(), signature):
            raise InvalidDPoPProof("DPoP proof signature does not verify with its own jwk")
        get = claims.get
        jti, htm, htu, iat = get("jti"), get("htm"), get("htu"), get("iat")
        if type(jti) is not str or not jti:
            raise InvalidDPoPProof("claim 'jti' is missing or not a non-empty string")
        if len(jti) > self.max_jti_length:
            raise InvalidDPoPProof(f"claim 'jti' is longer than {self.max_jti_length} characters")
        if type(htm) is not str or type(htu) is not str:
            raise InvalidDPoPProof("claims 'htm' and 'htu' must be present and strings")
        if (type(iat) is not int and type(iat) is not float) or not -1e15 < iat < 1e15:
            raise InvalidDPoPProof("claim 'iat' is missing or not a number of seconds")
        if htm != method:
            raise DPoPRequestMismatch(
                f"proof is for method {quote_prefix(htm, 12)}, not {quote_prefix(method, 12)}",
                "htm",
            )
        if self.proof_htu(htu) != expected_htu:
            raise DPoPRequestMismatch(
                f"proof is for {quote_prefix(htu, 60)}, not {quote_prefix(expected_htu, 60)}", "htu"
            )
        if now is None:
            now = self.clock()
        # Finite: with a NaN clock reading neither window test below would ever fail.
        now = finite_seconds(now, "now (or what clock() returns)")
        if iat > now + self.leeway:
            raise DPoPProofOutOfWindow(f"proof was issued {iat - now:.0f} s in the future")
        expires_at = iat + self.max_age
        if now >= expires_at:
            raise DPoPProofOutOfWindow(f"proof is older than max_age={self.max_age:g} s")
        if expected_ath is not None and get("ath") != expected_ath:
            raise DPoPRequestMismatch("proof is not for this access token (ath)", "ath")
        if nonces is not None:
            got = get("nonce")
            if got is None:
                raise DPoPNonceRequired("the server requires a nonce in the DPoP proof")
            if type(got) is not str or got not in nonces:
                raise DPoPNonceRequired("the DPoP proof's nonce is not one the server accepts")
        id_hash = id_hash.copy()  # sha256(f"{jkt}.{jti}"), without hashing the jkt again
        id_hash.update(jti.encode("utf-8", "surrogatepass"))
        proof_id = id_hash.hexdigest()
        return DPoPProof(jkt, jti, iat, alg), proof_id, expires_at


class _Verifier:
    """The one constructor of both fronts: options checked once, the replay cache's kind noted."""

    __slots__ = ("_awaits", "_checks", "_replay")

    _takes_async = False

    def __init__(
        self,
        *,
        replay: ReplayCache | AsyncReplayCache,
        algorithms: str | Iterable[str] = ASYMMETRIC_ALGORITHMS,
        max_age: float = DEFAULT_MAX_AGE,
        leeway: float = DEFAULT_LEEWAY,
        max_size: int = DEFAULT_MAX_SIZE,
        max_jti_length: int = DEFAULT_MAX_JTI_LENGTH,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._checks = _ProofChecks(
            algorithms=algorithms,
            max_age=max_age,
            leeway=leeway,
            max_size=max_size,
            max_jti_length=max_jti_length,
            clock=clock,
        )
        seen = getattr(replay, "seen", None)
        self._awaits = inspect.iscoroutinefunction(seen)
        if not callable(seen) or (self._awaits and not self._takes_async):
            raise ConfigurationError(
                "replay must have seen(proof_id, expires_at) -> bool; an asyncio cache needs "
                "AsyncDPoPVerifier"
            )
        self._replay = replay

    @property
    def algorithms(self) -> tuple[str, ...]:
        """The accepted ``alg`` values, e.g. for ``WWW-Authenticate: DPoP algs="..."``."""
        return self._checks.algorithms


class DPoPVerifier(_Verifier):
    """Verifies DPoP proofs (RFC 9449 4.3) against the request they came with.

    ``replay`` remembers proof ids (e.g. :class:`~gatepass.tokens.dpop_replay.MemoryReplayCache`);
    ``algorithms`` is the allow-list; a proof is accepted from ``iat`` - ``leeway`` until ``iat``
    + ``max_age`` by ``clock``. Configure once; call :meth:`verify` per request. An asyncio
    replay cache is refused here (ConfigurationError): use :class:`AsyncDPoPVerifier`.
    """

    __slots__ = ()

    def verify(
        self,
        proof: str | bytes,
        *,
        method: str,
        url: str,
        access_token: str | None = None,
        nonce: str | Collection[str] | None = None,
        now: float | None = None,
    ) -> DPoPProof:
        """The verified proof for this request, or :class:`~gatepass.errors.InvalidDPoPProof`.

        ``url`` is the absolute request URL as the client addressed it (query ignored);
        ``access_token`` the token presented with the proof (its ``ath`` must match); ``nonce``
        the nonce(s) the server currently accepts, or None when it asks for none.
        """
        result, proof_id, expires_at = self._checks.check(
            proof, method=method, url=url, access_token=access_token, nonce=nonce, now=now
        )
        if self._replay.seen(proof_id, expires_at):  # a sync cache: checked at construction
            raise DPoPProofReplayed("this DPoP proof (key and jti) was already used")
        return result


class AsyncDPoPVerifier(_Verifier):
    """:class:`DPoPVerifier` for asyncio: ``replay`` may be an asyncio cache or a sync one that
    never blocks (:class:`~gatepass.tokens.dpop_replay.MemoryReplayCache`)."""

    __slots__ = ()

    _takes_async = True

    async def verify(
        self,
        proof: str | bytes,
        *,
        method: str,
        url: str,
        access_token: str | None = None,
        nonce: str | Collection[str] | None = None,
        now: float | None = None,
    ) -> DPoPProof:
        """As :meth:`DPoPVerifier.verify`, awaiting an asyncio replay cache."""
        result, proof_id, expires_at = self._checks.check(
            proof, method=method, url=url, access_token=access_token, nonce=nonce, now=now
        )
        answer = self._replay.seen(proof_id, expires_at)
        if self._awaits:
            answer = await answer  # type: ignore[misc]
        if answer:
            raise DPoPProofReplayed("this DPoP proof (key and jti) was already used")
        return result
