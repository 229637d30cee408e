"""A key bound to exactly one JWS algorithm.

Why typed keys: the classic JWT failures (PyJWT CVE-2017-11424 and CVE-2022-29217, python-jose
CVE-2024-33663, Authlib CVE-2024-37568, ...) all came from one verify function accepting "a key"
(bytes or a string) and deciding from the *token header* what kind of key it was. A public key's
PEM text then became an HMAC secret. Here a :class:`Key` is created for one algorithm by an explicit
constructor, an HMAC secret can only come from :meth:`Key.from_secret` or a ``kty: oct`` JWK, and
verification compares the header's ``alg`` with the key's. There is no path from a public key to an
HMAC secret, so no blocklist is needed.

Keys are parsed and prepared once (:mod:`gatepass.tokens.primitives`); signing and verification
reuse the prepared objects, which is what keeps gatepass at the speed of the primitive.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from gatepass.errors import InvalidKey, KeyUsageError
from gatepass.tokens.algorithms import (
    MAX_RSA_BITS,
    MIN_RSA_BITS,
    SAME_ALGORITHM,
    AlgorithmSpec,
    spec_for,
)
from gatepass.tokens.jwk import jwk_members, load_key_document, material_from_jwk, thumbprint
from gatepass.tokens.pem import implied_alg, load_pem
from gatepass.tokens.primitives import (
    CURVES,
    PrivateKey,
    PublicKey,
    Signer,
    Verifier,
    check_material,
    make_signer,
    make_verifier,
)


class Key:
    """A key bound to one JWS algorithm.

    Build one with :meth:`generate`, :meth:`from_pem`, :meth:`from_jwk` or :meth:`from_secret`;
    the constructor is private. ``kid`` defaults to the RFC 7638 thumbprint.
    """

    __slots__ = (
        "_header_cache",
        "_private",
        "_public",
        "_secret",
        "_sign_impl",
        "_thumbprint",
        "_verify_impl",
        "alg",
        "key_ops",
        "kid",
        "kty",
        "spec",
        "use",
    )

    alg: str
    kid: str
    kty: str
    use: str | None
    key_ops: tuple[str, ...] | None
    spec: AlgorithmSpec
    _verify_impl: Verifier
    _sign_impl: Signer | None

    def __init__(
        self,
        _spec: AlgorithmSpec,
        *,
        secret: bytes | None = None,
        private: PrivateKey | None = None,
        public: PublicKey | None = None,
        kid: str | None = None,
        use: str | None = None,
        key_ops: Iterable[str] | None = None,
    ) -> None:
        self.spec = _spec
        self.alg = _spec.name
        self.kty = _spec.kty
        self._secret = secret
        self._private = private
        self._public = public if public is not None or private is None else private.public_key()
        self._thumbprint: str | None = None
        self._header_cache: dict[Any, str] = {}
        self.use = use
        self.key_ops = tuple(key_ops) if key_ops is not None else None
        if use is not None and use != "sig":
            raise InvalidKey(f"key is marked use={use!r}; JWS needs use='sig'")
        check_material(_spec, secret, self._public)
        self._sign_impl = make_signer(_spec, secret, private)
        self._verify_impl = make_verifier(_spec, secret, self._public)
        if kid is not None and (not isinstance(kid, str) or not kid):
            raise InvalidKey("kid must be a non-empty string")
        self.kid = kid if kid is not None else self.thumbprint()

    # --- construction -----------------------------------------------------------------------

    @classmethod
    def generate(cls, alg: str, *, size: int = 2048, kid: str | None = None) -> Key:
        """Create a fresh private key (or random secret) for ``alg``.

        HMAC secrets get as many random bytes as the hash output; RSA keys ``size`` bits (2048+).
        """
        spec = spec_for(alg)
        if spec.family == "HMAC":
            return cls(spec, secret=secrets.token_bytes(spec.hash_size), kid=kid)
        private: PrivateKey
        if spec.kty == "RSA":
            if type(size) is not int or not MIN_RSA_BITS <= size <= MAX_RSA_BITS:
                raise InvalidKey(f"RSA keys have from {MIN_RSA_BITS} to {MAX_RSA_BITS} bits")
            private = rsa.generate_private_key(public_exponent=65537, key_size=size)
        elif spec.kty == "EC":
            assert spec.curve is not None
            private = ec.generate_private_key(CURVES[spec.curve]())
        else:
            private = ed25519.Ed25519PrivateKey.generate()
        return cls(spec, private=private, kid=kid)

    @classmethod
    def from_secret(cls, secret: bytes, alg: str = "HS256", *, kid: str | None = None) -> Key:
        """An HMAC key from explicit secret bytes: the only way (besides an ``oct`` JWK) to get one.

        Text is refused on purpose: a ``str`` secret is usually a password or a PEM file read by
        mistake, and a PEM as HMAC secret is exactly the key-confusion attack.
        """
        spec = spec_for(alg)
        if spec.family != "HMAC":
            raise InvalidKey(f"from_secret makes HMAC keys; {alg} needs from_pem/from_jwk")
        if not isinstance(secret, bytes | bytearray):
            raise InvalidKey("the secret must be bytes (e.g. secrets.token_bytes(32))")
        return cls(spec, secret=bytes(secret), kid=kid)

    @classmethod
    def from_pem(
        cls,
        pem: bytes | str,
        alg: str | None = None,
        *,
        kid: str | None = None,
        password: bytes | None = None,
    ) -> Key:
        """Load a PEM public key, private key or X.509 certificate for one algorithm.

        ``alg`` may be omitted for EC and Ed25519 keys, whose curve decides it. RSA keys need it
        (RS256 and PS256 use the same keys). A PEM never becomes an HMAC secret.
        """
        private, public = load_pem(pem, password)
        material = private if private is not None else public
        assert material is not None
        spec = spec_for(alg if alg is not None else implied_alg(material))
        if spec.family == "HMAC":
            raise InvalidKey("a PEM key can never be an HMAC secret; use Key.from_secret(bytes)")
        return cls(spec, private=private, public=public, kid=kid)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any] | str | bytes, alg: str | None = None) -> Key:
        """Load a JWK (a dict or its JSON text). ``alg`` defaults to the JWK's own ``alg``.

        If both are given they must agree. Without either, EC and OKP keys take the algorithm
        their curve implies; RSA and ``oct`` keys need one. JSON text is parsed strictly
        (duplicate member names, deep nesting and over 1 MiB are refused); a dict has already
        been parsed by the caller, so pass the text when it comes from outside.
        """
        if isinstance(jwk, str | bytes):
            jwk = load_key_document(jwk, "JWK")
        if not isinstance(jwk, Mapping):
            raise InvalidKey("a JWK must be a JSON object")
        material = material_from_jwk(jwk, alg)
        return cls(
            material.spec,
            secret=material.secret,
            private=material.private,
            public=material.public,
            kid=material.kid,
            use=material.use,
            key_ops=material.key_ops,
        )

    # --- properties -------------------------------------------------------------------------

    @property
    def is_private(self) -> bool:
        """True when this key can sign (a private key or an HMAC secret)."""
        return self._secret is not None or self._private is not None

    @property
    def can_verify(self) -> bool:
        """False for keys whose ``key_ops`` exclude verification."""
        return self.key_ops is None or "verify" in self.key_ops

    def accepts(self, alg: object) -> bool:
        """True if a header naming ``alg`` denotes this key's algorithm."""
        if alg == self.alg:
            return True
        same = SAME_ALGORITHM.get(self.alg)
        return same is not None and alg in same

    def public(self) -> Key:
        """The public half; HMAC secrets have none."""
        if self.spec.family == "HMAC":
            raise KeyUsageError("an HMAC secret has no public form; publish an asymmetric key")
        if self._private is None:
            return self
        return Key(self.spec, public=self._public, kid=self.kid, use=self.use)

    def thumbprint(self) -> str:
        """RFC 7638 JWK thumbprint (SHA-256, base64url)."""
        if self._thumbprint is None:
            members = jwk_members(self._secret, None, self._public, include_private=False)
            self._thumbprint = thumbprint(members)
        return self._thumbprint

    # --- export -----------------------------------------------------------------------------

    def to_jwk(self, private: bool = False) -> dict[str, Any]:
        """Export as a JWK dict with ``alg``, ``kid`` and ``use: sig``.

        ``private=False`` (the default) never includes private members; for an HMAC secret it
        refuses, because the secret *is* the key.
        """
        if private and not self.is_private:
            raise KeyUsageError("this is a public key; there is no private part to export")
        if not private and self.spec.family == "HMAC":
            raise KeyUsageError("an HMAC key has no public JWK; pass private=True to export it")
        jwk: dict[str, Any] = jwk_members(
            self._secret, self._private, self._public, include_private=private
        )
        jwk.update(alg=self.alg, kid=self.kid, use="sig")
        if self.key_ops is not None:
            jwk["key_ops"] = list(self.key_ops)
        return jwk

    def to_pem(self, private: bool = False) -> bytes:
        """Export as PEM: SubjectPublicKeyInfo, or unencrypted PKCS#8 with ``private=True``."""
        if self.spec.family == "HMAC":
            raise KeyUsageError("HMAC secrets have no PEM form")
        if private:
            if self._private is None:
                raise KeyUsageError("this is a public key; there is no private part to export")
            return self._private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        assert self._public is not None
        return self._public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    # --- the signature primitive ------------------------------------------------------------

    def sign(self, data: bytes) -> bytes:
        """Raw JWS signature of ``data`` (ECDSA as fixed-size ``r || s``)."""
        if self.key_ops is not None and "sign" not in self.key_ops:
            raise KeyUsageError("this key's key_ops do not allow signing")
        if self._sign_impl is None:
            raise KeyUsageError(f"cannot sign with a public {self.alg} key")
        return self._sign_impl(data)

    def verify(self, data: bytes, signature: bytes) -> bool:
        """True if ``signature`` is a valid raw JWS signature of ``data`` under this key."""
        if not self.can_verify:
            raise KeyUsageError("this key's key_ops do not allow verification")
        return self._verify_impl(data, signature)

    def __repr__(self) -> str:
        kind = "secret" if self.spec.family == "HMAC" else "private" if self._private else "public"
        return f"<Key {self.alg} {kind} kid={self.kid!r}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Key):
            return NotImplemented
        return (
            self.alg == other.alg
            and self.kid == other.kid
            and self.thumbprint() == other.thumbprint()
            and self.is_private == other.is_private
        )

    def __hash__(self) -> int:
        return hash((self.alg, self.kid, self.thumbprint()))
