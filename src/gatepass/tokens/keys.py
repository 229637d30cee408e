"""Typed keys, each bound to exactly one algorithm, and key sets that select by ``kid``.

Why typed keys: the classic JWT failures (PyJWT CVE-2017-11424 and CVE-2022-29217, python-jose
CVE-2024-33663, Authlib CVE-2024-37568, ...) all came from one verify function accepting "a key"
(bytes or a string) and deciding from the *token header* what kind of key it was. A public key's
PEM text then became an HMAC secret. Here a :class:`Key` is created for one algorithm by an explicit
constructor, an HMAC secret can only come from :meth:`Key.from_secret` or a ``kty: oct`` JWK, and
verification compares the header's ``alg`` with the key's. There is no path from a public key to an
HMAC secret, so no blocklist is needed.

Keys are parsed and prepared once; signing and verification reuse the prepared objects, which is
what keeps gatepass at the speed of the primitive.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, cast

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from gatepass.errors import InvalidKey, KeyNotFound, KeyUsageError, MalformedToken
from gatepass.tokens._b64 import b64decode, b64decode_int, b64encode
from gatepass.tokens.algorithms import (
    ALGORITHM_SPECS,
    CURVE_DEFAULT_ALG,
    MIN_RSA_BITS,
    SAME_ALGORITHM,
    AlgorithmSpec,
)

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1,
    "P-384": ec.SECP384R1,
    "P-521": ec.SECP521R1,
}
_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
_COORDINATE_SIZE = {"P-256": 32, "P-384": 48, "P-521": 66}

_PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
_PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


def _spec_for(alg: object) -> AlgorithmSpec:
    if not isinstance(alg, str) or alg not in ALGORITHM_SPECS:
        shown = alg if isinstance(alg, str) and len(alg) <= 16 else type(alg).__name__
        raise InvalidKey(
            f"unsupported algorithm {shown!r}; gatepass supports {', '.join(ALGORITHM_SPECS)}"
        )
    return ALGORITHM_SPECS[alg]


def _int_to_b64(value: int, size: int | None = None) -> str:
    length = size if size is not None else max(1, (value.bit_length() + 7) // 8)
    return b64encode(value.to_bytes(length, "big"))


class Key:
    """A key bound to one JWS algorithm.

    Build one with :meth:`generate`, :meth:`from_pem`, :meth:`from_jwk` or :meth:`from_secret`;
    the constructor is private. ``kid`` defaults to the RFC 7638 thumbprint.
    """

    __slots__ = (
        "_hash",
        "_header_cache",
        "_padding",
        "_private",
        "_public",
        "_secret",
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
    _verify_impl: Callable[[bytes, bytes], bool]

    def __init__(
        self,
        _spec: AlgorithmSpec,
        *,
        secret: bytes | None = None,
        private: _PrivateKey | None = None,
        public: _PublicKey | None = None,
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
        self._check_material()
        self._hash = _HASHES[_spec.hash_name]() if _spec.hash_name else None
        self._padding: padding.AsymmetricPadding | None = None
        if _spec.family == "RSA":
            self._padding = padding.PKCS1v15()
        elif _spec.family == "RSA-PSS":
            assert self._hash is not None
            self._padding = padding.PSS(mgf=padding.MGF1(self._hash), salt_length=_spec.hash_size)
        self._verify_impl = self._select_verifier()
        if kid is not None and (not isinstance(kid, str) or not kid):
            raise InvalidKey("kid must be a non-empty string")
        self.kid = kid if kid is not None else self.thumbprint()

    # --- construction -----------------------------------------------------------------------

    def _check_material(self) -> None:
        spec = self.spec
        if spec.family == "HMAC":
            if not isinstance(self._secret, bytes):
                raise InvalidKey("HMAC keys are made from secret bytes")
            if len(self._secret) < spec.hash_size:
                raise InvalidKey(
                    f"{spec.name} needs a secret of at least {spec.hash_size} bytes "
                    f"(RFC 7518 3.2); got {len(self._secret)}. Use Key.generate({spec.name!r})"
                )
            return
        public = self._public
        if spec.kty == "RSA":
            if not isinstance(public, rsa.RSAPublicKey):
                raise InvalidKey(f"{spec.name} needs an RSA key")
            if public.key_size < MIN_RSA_BITS:
                raise InvalidKey(
                    f"RSA keys must have at least {MIN_RSA_BITS} bits; got {public.key_size}"
                )
        elif spec.kty == "EC":
            if not isinstance(public, ec.EllipticCurvePublicKey):
                raise InvalidKey(f"{spec.name} needs an EC key on {spec.curve}")
            curve = _CURVE_NAMES.get(public.curve.name)
            if curve != spec.curve:
                raise InvalidKey(f"{spec.name} needs curve {spec.curve}; got {public.curve.name}")
        elif not isinstance(public, ed25519.Ed25519PublicKey):
            raise InvalidKey(f"{spec.name} needs an Ed25519 key")

    @classmethod
    def generate(cls, alg: str, *, size: int = 2048, kid: str | None = None) -> Key:
        """Create a fresh private key (or random secret) for ``alg``.

        HMAC secrets get as many random bytes as the hash output; RSA keys ``size`` bits (2048+).
        """
        spec = _spec_for(alg)
        if spec.family == "HMAC":
            return cls(spec, secret=secrets.token_bytes(spec.hash_size), kid=kid)
        private: _PrivateKey
        if spec.kty == "RSA":
            if size < MIN_RSA_BITS:
                raise InvalidKey(f"RSA keys must have at least {MIN_RSA_BITS} bits")
            private = rsa.generate_private_key(public_exponent=65537, key_size=size)
        elif spec.kty == "EC":
            assert spec.curve is not None
            private = ec.generate_private_key(_CURVES[spec.curve]())
        else:
            private = ed25519.Ed25519PrivateKey.generate()
        return cls(spec, private=private, kid=kid)

    @classmethod
    def from_secret(cls, secret: bytes, alg: str = "HS256", *, kid: str | None = None) -> Key:
        """An HMAC key from explicit secret bytes: the only way (besides an ``oct`` JWK) to get one.

        Text is refused on purpose: a ``str`` secret is usually a password or a PEM file read by
        mistake, and a PEM as HMAC secret is exactly the key-confusion attack.
        """
        spec = _spec_for(alg)
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
        data = pem.encode("ascii", "replace") if isinstance(pem, str) else pem
        if not isinstance(data, bytes):
            raise InvalidKey("PEM must be bytes or str")
        private: Any = None
        public: Any = None
        try:
            if b"-----BEGIN CERTIFICATE-----" in data:
                public = x509.load_pem_x509_certificate(data).public_key()
            elif b"PRIVATE KEY-----" in data:
                private = serialization.load_pem_private_key(data, password=password)
            else:
                public = serialization.load_pem_public_key(data)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise InvalidKey(f"could not load PEM key: {str(exc).splitlines()[0][:120]}") from None
        material = private if private is not None else public
        if not isinstance(material, _PrivateKey | _PublicKey):
            raise InvalidKey(f"unsupported key type {type(material).__name__} in PEM")
        if alg is None:
            alg = _default_alg(material)
        spec = _spec_for(alg)
        if spec.family == "HMAC":
            raise InvalidKey("a PEM key can never be an HMAC secret; use Key.from_secret(bytes)")
        return cls(spec, private=private, public=public, kid=kid)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any] | str | bytes, alg: str | None = None) -> Key:
        """Load a JWK (a dict or its JSON text). ``alg`` defaults to the JWK's own ``alg``.

        If both are given they must agree. Without either, EC and OKP keys take the algorithm
        their curve implies; RSA and ``oct`` keys need one.
        """
        if isinstance(jwk, str | bytes):
            try:
                jwk = json.loads(jwk)
            except (ValueError, RecursionError):
                raise InvalidKey("JWK is not valid JSON") from None
        if not isinstance(jwk, Mapping):
            raise InvalidKey("a JWK must be a JSON object")
        try:
            return _key_from_jwk(cls, jwk, alg)
        except InvalidKey:
            raise
        except MalformedToken as exc:
            raise InvalidKey(f"invalid JWK: {exc}") from None
        except (ValueError, TypeError, OverflowError, UnsupportedAlgorithm) as exc:
            raise InvalidKey(f"invalid JWK: {str(exc).splitlines()[0][:120]}") from None

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
            jwk = self._jwk_members(private=self.spec.family == "HMAC")
            required = {"oct": ("k", "kty"), "RSA": ("e", "kty", "n")}.get(
                self.kty, ("crv", "kty", "x", "y") if self.kty == "EC" else ("crv", "kty", "x")
            )
            canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"))
            self._thumbprint = b64encode(hashlib.sha256(canonical.encode()).digest())
        return self._thumbprint

    def _jwk_members(self, private: bool) -> dict[str, str]:
        if self.spec.family == "HMAC":
            assert self._secret is not None
            return {"kty": "oct", "k": b64encode(self._secret)}
        public = self._public
        if isinstance(public, rsa.RSAPublicKey):
            numbers = public.public_numbers()
            jwk = {"kty": "RSA", "n": _int_to_b64(numbers.n), "e": _int_to_b64(numbers.e)}
            if private and isinstance(self._private, rsa.RSAPrivateKey):
                priv = self._private.private_numbers()
                jwk.update(
                    d=_int_to_b64(priv.d),
                    p=_int_to_b64(priv.p),
                    q=_int_to_b64(priv.q),
                    dp=_int_to_b64(priv.dmp1),
                    dq=_int_to_b64(priv.dmq1),
                    qi=_int_to_b64(priv.iqmp),
                )
            return jwk
        if isinstance(public, ec.EllipticCurvePublicKey):
            crv = _CURVE_NAMES[public.curve.name]
            size = _COORDINATE_SIZE[crv]
            nums = public.public_numbers()
            jwk = {"kty": "EC", "crv": crv, "x": _int_to_b64(nums.x, size)}
            jwk["y"] = _int_to_b64(nums.y, size)
            if private and isinstance(self._private, ec.EllipticCurvePrivateKey):
                jwk["d"] = _int_to_b64(self._private.private_numbers().private_value, size)
            return jwk
        assert isinstance(public, ed25519.Ed25519PublicKey)
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64encode(raw)}
        if private and isinstance(self._private, ed25519.Ed25519PrivateKey):
            jwk["d"] = b64encode(
                self._private.private_bytes(
                    serialization.Encoding.Raw,
                    serialization.PrivateFormat.Raw,
                    serialization.NoEncryption(),
                )
            )
        return jwk

    def to_jwk(self, private: bool = False) -> dict[str, Any]:
        """Export as a JWK dict with ``alg``, ``kid`` and ``use: sig``.

        ``private=False`` (the default) never includes private members; for an HMAC secret it
        refuses, because the secret *is* the key.
        """
        if private and not self.is_private:
            raise KeyUsageError("this is a public key; there is no private part to export")
        if not private and self.spec.family == "HMAC":
            raise KeyUsageError("an HMAC key has no public JWK; pass private=True to export it")
        jwk: dict[str, Any] = self._jwk_members(private=private)
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
        spec = self.spec
        if spec.family == "HMAC":
            assert self._secret is not None and spec.hash_name is not None
            return hmac.digest(self._secret, data, spec.hash_name)
        private = self._private
        if private is None:
            raise KeyUsageError(f"cannot sign with a public {spec.name} key")
        if self.key_ops is not None and "sign" not in self.key_ops:
            raise KeyUsageError("this key's key_ops do not allow signing")
        if isinstance(private, rsa.RSAPrivateKey):
            assert self._padding is not None and self._hash is not None
            return private.sign(data, self._padding, self._hash)
        if isinstance(private, ec.EllipticCurvePrivateKey):
            assert self._hash is not None and spec.curve is not None
            r, s = decode_dss_signature(private.sign(data, ec.ECDSA(self._hash)))
            size = _COORDINATE_SIZE[spec.curve]
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")
        return private.sign(data)

    def verify(self, data: bytes, signature: bytes) -> bool:
        """True if ``signature`` is a valid raw JWS signature of ``data`` under this key."""
        if not self.can_verify:
            raise KeyUsageError("this key's key_ops do not allow verification")
        return self._verify_impl(data, signature)

    def _select_verifier(self) -> Callable[[bytes, bytes], bool]:
        spec = self.spec
        if spec.family == "HMAC":
            secret, name = self._secret, spec.hash_name
            assert secret is not None and name is not None

            def verify_hmac(data: bytes, signature: bytes) -> bool:
                return hmac.compare_digest(hmac.digest(secret, data, name), signature)

            return verify_hmac
        public = self._public
        if isinstance(public, rsa.RSAPublicKey):
            pad, hash_ = self._padding, self._hash
            assert pad is not None and hash_ is not None
            rsa_bytes = (public.key_size + 7) // 8

            def verify_rsa(data: bytes, signature: bytes) -> bool:
                if len(signature) != rsa_bytes:
                    return False
                try:
                    public.verify(signature, data, pad, hash_)
                except InvalidSignature:
                    return False
                return True

            return verify_rsa
        if isinstance(public, ec.EllipticCurvePublicKey):
            assert self._hash is not None and spec.signature_size is not None
            algorithm = ec.ECDSA(self._hash)
            full, half = spec.signature_size, spec.signature_size // 2

            def verify_ecdsa(data: bytes, signature: bytes) -> bool:
                if len(signature) != full:
                    return False
                r = int.from_bytes(signature[:half], "big")
                s = int.from_bytes(signature[half:], "big")
                if r == 0 or s == 0:
                    return False
                try:
                    public.verify(encode_dss_signature(r, s), data, algorithm)
                except InvalidSignature:
                    return False
                return True

            return verify_ecdsa
        assert isinstance(public, ed25519.Ed25519PublicKey)

        def verify_ed25519(data: bytes, signature: bytes) -> bool:
            if len(signature) != 64:
                return False
            try:
                public.verify(signature, data)
            except InvalidSignature:
                return False
            return True

        return verify_ed25519

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


def _default_alg(material: object) -> str:
    if isinstance(material, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        crv = _CURVE_NAMES.get(material.curve.name)
        if crv is None:
            raise InvalidKey(f"unsupported curve {material.curve.name}")
        return CURVE_DEFAULT_ALG[crv]
    if isinstance(material, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "EdDSA"
    raise InvalidKey("RSA keys serve several algorithms: pass alg= (e.g. 'RS256' or 'PS256')")


def _key_from_jwk(cls: type[Key], jwk: Mapping[str, Any], alg: str | None) -> Key:
    kty = jwk.get("kty")
    if kty not in {"oct", "RSA", "EC", "OKP"}:
        raise InvalidKey(f"unsupported JWK kty {str(kty)[:16]!r}")
    jwk_alg = jwk.get("alg")
    if jwk_alg is not None and alg is not None and jwk_alg != alg:
        raise InvalidKey(f"JWK alg {str(jwk_alg)[:16]!r} differs from the requested {alg!r}")
    chosen = alg if alg is not None else jwk_alg
    if chosen is None:
        crv = jwk.get("crv")
        if kty in {"EC", "OKP"} and isinstance(crv, str) and crv in CURVE_DEFAULT_ALG:
            chosen = CURVE_DEFAULT_ALG[crv]
        else:
            raise InvalidKey(f"this {kty} JWK has no 'alg'; pass alg= to bind it to one algorithm")
    spec = _spec_for(chosen)
    if spec.kty != kty:
        raise InvalidKey(f"{spec.name} needs a {spec.kty} key, not kty {kty!r}")
    kid = jwk.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise InvalidKey("JWK kid must be a string")
    use = jwk.get("use")
    if use is not None and use != "sig":
        raise InvalidKey(f"JWK is marked use={str(use)[:16]!r}; JWS needs use='sig'")
    key_ops = jwk.get("key_ops")
    if key_ops is not None:
        if not isinstance(key_ops, list) or not all(isinstance(op, str) for op in key_ops):
            raise InvalidKey("JWK key_ops must be a list of strings")
        if len(set(key_ops)) != len(key_ops):
            raise InvalidKey("JWK key_ops has duplicates")
        if not {"sign", "verify"} & set(key_ops):
            raise InvalidKey("JWK key_ops allow neither sign nor verify")
    common: dict[str, Any] = {"kid": kid, "use": use, "key_ops": key_ops}

    if kty == "oct":
        k = jwk.get("k")
        if not isinstance(k, str):
            raise InvalidKey("oct JWK needs member 'k'")
        return cls(spec, secret=b64decode(k, "JWK member 'k'"), **common)

    if kty == "RSA":
        n = b64decode_int(jwk.get("n"), "n")
        e = b64decode_int(jwk.get("e"), "e")
        if e < 3 or e % 2 == 0:
            raise InvalidKey("RSA public exponent must be odd and at least 3")
        public_numbers = rsa.RSAPublicNumbers(e, n)
        if "d" not in jwk:
            return cls(spec, public=public_numbers.public_key(), **common)
        d = b64decode_int(jwk.get("d"), "d")
        if all(m in jwk for m in ("p", "q", "dp", "dq", "qi")):
            p, q = b64decode_int(jwk["p"], "p"), b64decode_int(jwk["q"], "q")
            dp, dq = b64decode_int(jwk["dp"], "dp"), b64decode_int(jwk["dq"], "dq")
            qi = b64decode_int(jwk["qi"], "qi")
        elif not any(m in jwk for m in ("p", "q", "dp", "dq", "qi")):
            p, q = rsa.rsa_recover_prime_factors(n, e, d)
            dp, dq, qi = rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q)
        else:
            raise InvalidKey("RSA private JWK must have all of p, q, dp, dq, qi or none of them")
        private_rsa = rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, public_numbers).private_key()
        return cls(spec, private=private_rsa, **common)

    crv = jwk.get("crv")
    if crv != spec.curve or spec.curve is None:
        raise InvalidKey(f"{spec.name} needs crv {spec.curve!r}, not {str(crv)[:16]!r}")
    crv = spec.curve
    if kty == "EC":
        size = _COORDINATE_SIZE[crv]
        coords = []
        for member in ("x", "y"):
            raw = b64decode(_str_member(jwk, member), f"JWK member {member!r}")
            if len(raw) != size:
                raise InvalidKey(f"EC coordinate {member!r} must be {size} bytes for {crv}")
            coords.append(int.from_bytes(raw, "big"))
        public_ec = ec.EllipticCurvePublicNumbers(coords[0], coords[1], _CURVES[crv]()).public_key()
        if "d" not in jwk:
            return cls(spec, public=public_ec, **common)
        raw_d = b64decode(_str_member(jwk, "d"), "JWK member 'd'")
        if len(raw_d) != size:
            raise InvalidKey(f"EC private value 'd' must be {size} bytes for {crv}")
        private_ec = ec.derive_private_key(int.from_bytes(raw_d, "big"), _CURVES[crv]())
        if private_ec.public_key().public_numbers() != public_ec.public_numbers():
            raise InvalidKey("EC private value 'd' does not match the public point")
        return cls(spec, private=private_ec, **common)

    raw_x = b64decode(_str_member(jwk, "x"), "JWK member 'x'")
    if len(raw_x) != 32:
        raise InvalidKey("Ed25519 public key 'x' must be 32 bytes")
    public_ed = ed25519.Ed25519PublicKey.from_public_bytes(raw_x)
    if "d" not in jwk:
        return cls(spec, public=public_ed, **common)
    raw_ed_d = b64decode(_str_member(jwk, "d"), "JWK member 'd'")
    if len(raw_ed_d) != 32:
        raise InvalidKey("Ed25519 private key 'd' must be 32 bytes")
    private_ed = ed25519.Ed25519PrivateKey.from_private_bytes(raw_ed_d)
    if private_ed.public_key().public_bytes_raw() != raw_x:
        raise InvalidKey("Ed25519 private key 'd' does not match 'x'")
    return cls(spec, private=private_ed, **common)


def _str_member(jwk: Mapping[str, Any], name: str) -> str:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise InvalidKey(f"JWK member {name!r} must be a base64url string")
    return value


class KeySet:
    """Several keys, selected per token by ``kid`` and ``alg``; exactly one must match.

    A set that binds one ``kid`` to keys of different types is refused outright: with such a set
    an attacker could pick which key (and so which algorithm family) a token is checked with.
    """

    __slots__ = ("_by_kid", "_keys", "skipped")

    def __init__(self, keys: Iterable[Key], *, skipped: Iterable[str] = ()) -> None:
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
        are broken are errors, not skips.
        """
        if isinstance(jwks, str | bytes):
            try:
                jwks = json.loads(jwks)
            except (ValueError, RecursionError):
                raise InvalidKey("JWKS is not valid JSON") from None
        if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
            raise InvalidKey("a JWKS is a JSON object with a 'keys' list")
        keys: list[Key] = []
        skipped: list[str] = []
        for index, jwk in enumerate(cast(list[Any], jwks["keys"])):
            if not isinstance(jwk, Mapping):
                raise InvalidKey(f"JWKS key #{index} is not an object")
            reason = _skip_reason(jwk)
            if reason:
                skipped.append(f"key #{index}: {reason}")
                continue
            keys.append(Key.from_jwk(jwk))
        return cls(keys, skipped=skipped)

    def to_jwks(self) -> dict[str, Any]:
        """The public JWKS document (never private members; HMAC keys are left out)."""
        return {"keys": [k.public().to_jwk() for k in self._keys if k.spec.family != "HMAC"]}

    def find(self, kid: object, alg: object) -> Key:
        """The one key usable for ``kid``/``alg``, or :class:`KeyNotFound`."""
        if kid is None:
            candidates = [k for k in self._keys if k.accepts(alg) and k.can_verify]
        elif isinstance(kid, str):
            candidates = [k for k in self._by_kid.get(kid, ()) if k.accepts(alg) and k.can_verify]
        else:
            raise KeyNotFound("header kid must be a string")
        if len(candidates) == 1:
            return candidates[0]
        shown = repr(kid[:32]) if isinstance(kid, str) else "(none)"
        if not candidates:
            raise KeyNotFound(f"no key for kid {shown} and alg {str(alg)[:16]!r}")
        raise KeyNotFound(f"{len(candidates)} keys match kid {shown}; exactly one must")

    def __iter__(self) -> Iterator[Key]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"<KeySet {len(self._keys)} keys: {', '.join(k.kid[:12] for k in self._keys)}>"


def _skip_reason(jwk: Mapping[str, Any]) -> str | None:
    use = jwk.get("use")
    if use is not None and use != "sig":
        return f"use={str(use)[:16]!r}"
    alg = jwk.get("alg")
    if alg is not None and alg not in ALGORITHM_SPECS:
        return f"alg {str(alg)[:16]!r} is not a supported JWS algorithm"
    kty = jwk.get("kty")
    if kty not in {"oct", "RSA", "EC", "OKP"}:
        return f"kty {str(kty)[:16]!r} is not supported"
    if kty == "OKP" and jwk.get("crv") != "Ed25519":
        return f"OKP curve {str(jwk.get('crv'))[:16]!r} is not supported"
    if kty == "EC" and alg is None and jwk.get("crv") not in CURVE_DEFAULT_ALG:
        return f"EC curve {str(jwk.get('crv'))[:16]!r} is not supported"
    if kty in {"RSA", "oct"} and alg is None:
        return f"{kty} key without 'alg' cannot be bound to one algorithm"
    return None
