"""The signature primitive of each algorithm family, checked and prepared once per key.

A :class:`~gatepass.tokens.key.Key` holds one signer and one verifier made here when it is
created, so signing and verifying cost the primitive and nothing else (``bench/bench_tokens.py``
measures gatepass at 0.86-1.03x of the bare primitive). The rules that make a key unusable (too
short, wrong curve, weak RSA) are checked here too, before anything is prepared.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from gatepass.errors import InvalidKey
from gatepass.tokens.algorithms import MAX_RSA_BITS, MIN_RSA_BITS, AlgorithmSpec
from gatepass.tokens.roca import has_roca_fingerprint

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
Signer = Callable[[bytes], bytes]
Verifier = Callable[[bytes, bytes], bool]

HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
CURVES: dict[str, type[ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1,
    "P-384": ec.SECP384R1,
    "P-521": ec.SECP521R1,
}
#: cryptography's curve names -> JWK ``crv``.
CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
COORDINATE_SIZE = {"P-256": 32, "P-384": 48, "P-521": 66}


def check_material(spec: AlgorithmSpec, secret: bytes | None, public: PublicKey | None) -> None:
    """Raise :class:`InvalidKey` unless the material can serve ``spec`` safely."""
    if spec.family == "HMAC":
        if not isinstance(secret, bytes):
            raise InvalidKey("HMAC keys are made from secret bytes")
        if len(secret) < spec.hash_size:
            raise InvalidKey(
                f"{spec.name} needs a secret of at least {spec.hash_size} bytes "
                f"(RFC 7518 3.2); got {len(secret)}. Use Key.generate({spec.name!r})"
            )
        return
    if spec.kty == "RSA":
        if not isinstance(public, rsa.RSAPublicKey):
            raise InvalidKey(f"{spec.name} needs an RSA key")
        if public.key_size < MIN_RSA_BITS:
            raise InvalidKey(
                f"RSA keys must have at least {MIN_RSA_BITS} bits; got {public.key_size}"
            )
        if public.key_size > MAX_RSA_BITS:
            # OpenSSL verifies nothing with it: a key that loads and then fails every signature.
            raise InvalidKey(f"RSA keys have at most {MAX_RSA_BITS} bits; got {public.key_size}")
        if has_roca_fingerprint(public.public_numbers().n):
            raise InvalidKey(
                "RSA modulus has the ROCA fingerprint (CVE-2017-15361): the private key can "
                "be recovered from the public key; replace it"
            )
    elif spec.kty == "EC":
        if not isinstance(public, ec.EllipticCurvePublicKey):
            raise InvalidKey(f"{spec.name} needs an EC key on {spec.curve}")
        curve = CURVE_NAMES.get(public.curve.name)
        if curve != spec.curve:
            raise InvalidKey(f"{spec.name} needs curve {spec.curve}; got {public.curve.name}")
    elif not isinstance(public, ed25519.Ed25519PublicKey):
        raise InvalidKey(f"{spec.name} needs an Ed25519 key")


def _hash(spec: AlgorithmSpec) -> hashes.HashAlgorithm:
    assert spec.hash_name is not None
    return HASHES[spec.hash_name]()


def _rsa_parameters(spec: AlgorithmSpec) -> tuple[padding.AsymmetricPadding, hashes.HashAlgorithm]:
    """PKCS#1 v1.5 for RS*, PSS with a salt of the hash's size for PS* (RFC 7518 3.5)."""
    hash_ = _hash(spec)
    if spec.family == "RSA-PSS":
        return padding.PSS(mgf=padding.MGF1(hash_), salt_length=spec.hash_size), hash_
    return padding.PKCS1v15(), hash_


def _keyed_hmac(secret: bytes, hash_name: str) -> hmac.HMAC:
    """An HMAC with the key already absorbed (RFC 2104's inner and outer pads hashed once).

    Each token then starts from a copy of this state instead of preparing the key again, which
    ``hmac.digest`` does on every call. ``bench/bench_tokens.py --algs HS256`` measured the
    difference at 5-6% of the floor: verify 0.88x -> 0.82x of it, encode 0.95x -> 0.89x
    (about 0.6 µs). The object itself is never updated, only copied, so threads may share it.
    """
    return hmac.new(secret, digestmod=hash_name)


def make_signer(
    spec: AlgorithmSpec, secret: bytes | None, private: PrivateKey | None
) -> Signer | None:
    """A function computing the raw JWS signature (ECDSA as fixed-size ``r || s``), or None
    for a public key."""
    if spec.family == "HMAC":
        assert secret is not None and spec.hash_name is not None
        signing_mac = _keyed_hmac(secret, spec.hash_name)

        def sign_hmac(data: bytes) -> bytes:
            mac = signing_mac.copy()
            mac.update(data)
            return mac.digest()

        return sign_hmac
    if isinstance(private, rsa.RSAPrivateKey):
        rsa_key, (rsa_pad, rsa_hash) = private, _rsa_parameters(spec)

        def sign_rsa(data: bytes) -> bytes:
            return rsa_key.sign(data, rsa_pad, rsa_hash)

        return sign_rsa
    if isinstance(private, ec.EllipticCurvePrivateKey):
        ec_key = private
        assert spec.curve is not None
        algorithm = ec.ECDSA(_hash(spec))
        size = COORDINATE_SIZE[spec.curve]

        def sign_ecdsa(data: bytes) -> bytes:
            r, s = decode_dss_signature(ec_key.sign(data, algorithm))
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")

        return sign_ecdsa
    if isinstance(private, ed25519.Ed25519PrivateKey):
        return private.sign
    return None


def make_verifier(spec: AlgorithmSpec, secret: bytes | None, public: PublicKey | None) -> Verifier:
    """A function answering "is this the raw JWS signature of ``data``?", never raising.

    Signatures of the wrong length are refused before any arithmetic: an ECDSA signature must be
    exactly twice the coordinate size (a DER-encoded one is another spelling of the same
    signature, which is malleability), an RSA one exactly the modulus size.
    """
    if spec.family == "HMAC":
        assert secret is not None and spec.hash_name is not None
        verifying_mac = _keyed_hmac(secret, spec.hash_name)

        def verify_hmac(data: bytes, signature: bytes) -> bool:
            mac = verifying_mac.copy()
            mac.update(data)
            return hmac.compare_digest(mac.digest(), signature)

        return verify_hmac
    if isinstance(public, rsa.RSAPublicKey):
        rsa_key, (rsa_pad, rsa_hash) = public, _rsa_parameters(spec)
        rsa_bytes = (public.key_size + 7) // 8

        def verify_rsa(data: bytes, signature: bytes) -> bool:
            if len(signature) != rsa_bytes:
                return False
            try:
                rsa_key.verify(signature, data, rsa_pad, rsa_hash)
            except InvalidSignature:
                return False
            return True

        return verify_rsa
    if isinstance(public, ec.EllipticCurvePublicKey):
        ec_key = public
        assert spec.signature_size is not None
        algorithm = ec.ECDSA(_hash(spec))
        full, half = spec.signature_size, spec.signature_size // 2

        def verify_ecdsa(data: bytes, signature: bytes) -> bool:
            if len(signature) != full:
                return False
            r = int.from_bytes(signature[:half], "big")
            s = int.from_bytes(signature[half:], "big")
            if r == 0 or s == 0:
                return False
            try:
                ec_key.verify(encode_dss_signature(r, s), data, algorithm)
            except InvalidSignature:
                return False
            return True

        return verify_ecdsa
    assert isinstance(public, ed25519.Ed25519PublicKey)
    ed_key = public

    def verify_ed25519(data: bytes, signature: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            ed_key.verify(signature, data)
        except InvalidSignature:
            return False
        return True

    return verify_ed25519
