"""Key sets: several keys, one selected per token by ``kid`` and ``alg``; and JWKS documents.

Exactly one key must match a token. A set that binds one ``kid`` to keys of different types is
refused outright: with such a set an attacker could pick which key (and so which algorithm
family) a token is checked with. A JWKS (RFC 7517 section 5) is read with the strict parser of
:mod:`gatepass.tokens.jwk`, since it usually comes from the network.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, cast

from gatepass.errors import AmbiguousKey, InvalidKey, KeyNotFound
from gatepass.tokens.algorithms import ALGORITHM_SPECS, CURVE_DEFAULT_ALG
from gatepass.tokens.jwk import KEY_TYPES, load_key_document
from gatepass.tokens.key import Key


def _shown(value: object, limit: int = 32) -> str:
    return repr(value[:limit]) if isinstance(value, str) else "(none)"


class KeySet:
    """Several keys, selected per token by ``kid`` and ``alg``; exactly one must match."""

    __slots__ = ("_by_kid", "_keys", "skipped")

    def __init__(self, keys: Iterable[Key], *, skipped: Iterable[str] = ()) -> None:
        if not isinstance(keys, Iterable):  # KeySet(None) or KeySet(key): a TypeError otherwise
            raise InvalidKey(f"a KeySet holds Key objects: pass a list, not {type(keys).__name__}")
        self._keys: tuple[Key, ...] = tuple(keys)
        if not all(isinstance(k, Key) for k in self._keys):
            raise InvalidKey("a KeySet holds Key objects")
        self.skipped: tuple[str, ...] = tuple(skipped)
        by_kid: dict[str, list[Key]] = {}
        for key in self._keys:
            by_kid.setdefault(key.kid, []).append(key)
        for kid, group in by_kid.items():
            if len({k.kty for k in group}) > 1:
                raise InvalidKey(f"key set mixes key types under kid {kid[:32]!r}")
        self._by_kid = {kid: tuple(group) for kid, group in by_kid.items()}

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any] | str | bytes) -> KeySet:
        """Load a JWK Set. Keys not meant for JWS signatures are skipped and listed in ``skipped``.

        RFC 7517 section 5 asks implementations to ignore keys they do not understand, so a JWKS
        that also publishes encryption keys still works. Keys that claim to be signature keys but
        are broken are errors, not skips. Text is parsed strictly (duplicate member names, deep
        nesting and documents over 1 MiB are refused).
        """
        if isinstance(jwks, str | bytes):
            jwks = load_key_document(jwks, "JWKS")
        if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
            raise InvalidKey("a JWKS is a JSON object with a 'keys' list")
        keys: list[Key] = []
        skipped: list[str] = []
        for index, jwk in enumerate(cast(list[Any], jwks["keys"])):
            if not isinstance(jwk, Mapping):
                raise InvalidKey(f"JWKS key #{index} is not an object")
            reason = skip_reason(jwk)
            if reason:
                skipped.append(f"key #{index}: {reason}")
                continue
            keys.append(Key.from_jwk(jwk))
        if any(k.kty == "oct" for k in keys) and any(k.kty != "oct" for k in keys):
            # A JWK set is either shared secrets or public keys. One that mixes them lets a
            # token pick the algorithm family by its kid, and an HMAC secret inside a document
            # that also publishes public keys is one upload away from being public itself
            # (Wycheproof jws_mixedSymmetryKeyset expects the set to be refused).
            raise InvalidKey("JWKS mixes HMAC secrets (kty 'oct') with asymmetric keys")
        return cls(keys, skipped=skipped)

    def to_jwks(self) -> dict[str, Any]:
        """The public JWKS document (never private members; HMAC keys are left out)."""
        return {"keys": [k.public().to_jwk() for k in self._keys if k.spec.family != "HMAC"]}

    def find(self, kid: object, alg: object) -> Key:
        """The one key usable for ``kid``/``alg``; :class:`KeyNotFound` when there is none,
        :class:`AmbiguousKey` (a subclass) when there are several."""
        if kid is None:
            candidates = [k for k in self._keys if k.accepts(alg) and k.can_verify]
        elif isinstance(kid, str):
            candidates = [k for k in self._by_kid.get(kid, ()) if k.accepts(alg) and k.can_verify]
        else:
            raise KeyNotFound("header kid must be a string")
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            kids = ", ".join(_shown(k, 16) for k in list(self._by_kid)[:4])
            more = ", ..." if len(self._by_kid) > 4 else ""
            raise KeyNotFound(
                f"no key for kid {_shown(kid)} and alg {str(alg)[:16]!r} "
                f"(the set has kids {kids or 'none'}{more})"
            )
        raise AmbiguousKey(
            f"{len(candidates)} keys match kid {_shown(kid)} and alg {str(alg)[:16]!r}; "
            "exactly one must: the key set holds the same key (or kid) twice"
        )

    def __iter__(self) -> Iterator[Key]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"<KeySet {len(self._keys)} keys: {', '.join(k.kid[:12] for k in self._keys)}>"


def skip_reason(jwk: Mapping[str, Any]) -> str | None:
    """Why a JWKS member is not a JWS signature key gatepass can use, or None if it is one."""
    # Members are untrusted JSON: a list or object here must not reach a dict/set lookup
    # (TypeError: unhashable), hence the isinstance checks before every membership test.
    use = jwk.get("use")
    if use is not None and use != "sig":
        return f"use={str(use)[:16]!r}"
    alg = jwk.get("alg")
    if alg is not None and (not isinstance(alg, str) or alg not in ALGORITHM_SPECS):
        return f"alg {str(alg)[:16]!r} is not a supported JWS algorithm"
    kty = jwk.get("kty")
    if not isinstance(kty, str) or kty not in KEY_TYPES:
        return f"kty {str(kty)[:16]!r} is not supported"
    crv = jwk.get("crv")
    if kty == "OKP" and crv != "Ed25519":
        return f"OKP curve {str(crv)[:16]!r} is not supported"
    if kty == "EC" and alg is None and (not isinstance(crv, str) or crv not in CURVE_DEFAULT_ALG):
        return f"EC curve {str(crv)[:16]!r} is not supported"
    if kty in {"RSA", "oct"} and alg is None:
        return f"{kty} key without 'alg' cannot be bound to one algorithm"
    return None
