"""JSON Web Keys (RFC 7517, RFC 7518 section 6, RFC 8037): read, write and thumbprint.

JWK and JWKS text is parsed as strictly as a token header (:func:`load_key_document`): duplicate
member names, ``NaN``, deep nesting and oversized documents are refused. ``{"kid": "a", "kid":
"evil"}`` means two different keys to two parsers, and a JWKS arrives over the network (the JWKS
client feeds its response body through here), so it gets the same parser as any other untrusted
input. Members are then checked one by one: a JWK is bound to one algorithm, its integers must be
canonical base64url, and private values must match the public ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from gatepass.errors import InvalidKey, MalformedToken
from gatepass.tokens._b64 import b64decode, b64decode_int, b64encode
from gatepass.tokens._json import dumps_text, loads_object
from gatepass.tokens.algorithms import CURVE_DEFAULT_ALG, AlgorithmSpec, spec_for
from gatepass.tokens.primitives import COORDINATE_SIZE, CURVE_NAMES, CURVES, PrivateKey, PublicKey

#: JWK or JWKS text larger than this is refused before parsing: 1 MiB holds hundreds of RSA-4096
#: keys, twice what the JWKS client accepts from a server by default.
MAX_KEY_DOCUMENT_SIZE = 1024 * 1024

KEY_TYPES = frozenset({"oct", "RSA", "EC", "OKP"})

# RFC 7638 section 3.2: the members a thumbprint hashes, in lexicographic order.
_THUMBPRINT_MEMBERS = {
    "oct": ("k", "kty"),
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
}


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    """What a JWK describes, ready to become a :class:`~gatepass.tokens.key.Key`."""

    spec: AlgorithmSpec
    secret: bytes | None = None
    private: PrivateKey | None = None
    public: PublicKey | None = None
    kid: str | None = None
    use: str | None = None
    key_ops: tuple[str, ...] | None = None


def load_key_document(data: str | bytes, what: str = "JWK") -> dict[str, Any]:
    """Parse JWK or JWKS text strictly, or raise :class:`InvalidKey` saying what is wrong."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if not isinstance(raw, bytes):
        raise InvalidKey(f"a {what} is a JSON object or its text, not {type(data).__name__}")
    if len(raw) > MAX_KEY_DOCUMENT_SIZE:
        raise InvalidKey(f"{what} is {len(raw)} bytes; the limit is {MAX_KEY_DOCUMENT_SIZE}")
    try:
        return loads_object(raw, what)
    except MalformedToken as exc:
        raise InvalidKey(str(exc)) from None


def material_from_jwk(jwk: Mapping[str, Any], alg: str | None) -> KeyMaterial:
    """Check a JWK's members and build its key material for one algorithm."""
    try:
        return _material(jwk, alg)
    except InvalidKey:
        raise
    except MalformedToken as exc:
        raise InvalidKey(f"invalid JWK: {exc}") from None
    except (ValueError, TypeError, OverflowError, UnsupportedAlgorithm) as exc:
        raise InvalidKey(f"invalid JWK: {str(exc).splitlines()[0][:120]}") from None


def _material(jwk: Mapping[str, Any], alg: str | None) -> KeyMaterial:
    kty = jwk.get("kty")
    if not isinstance(kty, str) or kty not in KEY_TYPES:
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
    spec = spec_for(chosen)
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
    common: dict[str, Any] = {
        "spec": spec,
        "kid": kid,
        "use": use,
        "key_ops": tuple(key_ops) if key_ops is not None else None,
    }
    if kty == "oct":
        k = jwk.get("k")
        if not isinstance(k, str):
            raise InvalidKey("oct JWK needs member 'k'")
        return KeyMaterial(secret=b64decode(k, "JWK member 'k'"), **common)
    if kty == "RSA":
        return _rsa(jwk, common)
    crv = jwk.get("crv")
    if crv != spec.curve or spec.curve is None:
        raise InvalidKey(f"{spec.name} needs crv {spec.curve!r}, not {str(crv)[:16]!r}")
    if kty == "EC":
        return _ec(jwk, spec.curve, common)
    return _okp(jwk, common)


def _rsa(jwk: Mapping[str, Any], common: dict[str, Any]) -> KeyMaterial:
    n = b64decode_int(jwk.get("n"), "n")
    e = b64decode_int(jwk.get("e"), "e")
    if e < 3 or e % 2 == 0:
        raise InvalidKey("RSA public exponent must be odd and at least 3")
    public_numbers = rsa.RSAPublicNumbers(e, n)
    if "d" not in jwk:
        return KeyMaterial(public=public_numbers.public_key(), **common)
    d = b64decode_int(jwk.get("d"), "d")
    crt = ("p", "q", "dp", "dq", "qi")
    if all(m in jwk for m in crt):
        p, q = b64decode_int(jwk["p"], "p"), b64decode_int(jwk["q"], "q")
        dp, dq = b64decode_int(jwk["dp"], "dp"), b64decode_int(jwk["dq"], "dq")
        qi = b64decode_int(jwk["qi"], "qi")
    elif not any(m in jwk for m in crt):
        p, q = rsa.rsa_recover_prime_factors(n, e, d)
        dp, dq, qi = rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q)
    else:
        raise InvalidKey("RSA private JWK must have all of p, q, dp, dq, qi or none of them")
    private = rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, public_numbers).private_key()
    return KeyMaterial(private=private, **common)


def _ec(jwk: Mapping[str, Any], crv: str, common: dict[str, Any]) -> KeyMaterial:
    size = COORDINATE_SIZE[crv]
    coords = []
    for member in ("x", "y"):
        raw = b64decode(_str_member(jwk, member), f"JWK member {member!r}")
        if len(raw) != size:
            raise InvalidKey(f"EC coordinate {member!r} must be {size} bytes for {crv}")
        coords.append(int.from_bytes(raw, "big"))
    public = ec.EllipticCurvePublicNumbers(coords[0], coords[1], CURVES[crv]()).public_key()
    if "d" not in jwk:
        return KeyMaterial(public=public, **common)
    raw_d = b64decode(_str_member(jwk, "d"), "JWK member 'd'")
    if len(raw_d) != size:
        raise InvalidKey(f"EC private value 'd' must be {size} bytes for {crv}")
    private = ec.derive_private_key(int.from_bytes(raw_d, "big"), CURVES[crv]())
    if private.public_key().public_numbers() != public.public_numbers():
        raise InvalidKey("EC private value 'd' does not match the public point")
    return KeyMaterial(private=private, **common)


def _okp(jwk: Mapping[str, Any], common: dict[str, Any]) -> KeyMaterial:
    raw_x = b64decode(_str_member(jwk, "x"), "JWK member 'x'")
    if len(raw_x) != 32:
        raise InvalidKey("Ed25519 public key 'x' must be 32 bytes")
    public = ed25519.Ed25519PublicKey.from_public_bytes(raw_x)
    if "d" not in jwk:
        return KeyMaterial(public=public, **common)
    raw_d = b64decode(_str_member(jwk, "d"), "JWK member 'd'")
    if len(raw_d) != 32:
        raise InvalidKey("Ed25519 private key 'd' must be 32 bytes")
    private = ed25519.Ed25519PrivateKey.from_private_bytes(raw_d)
    if private.public_key().public_bytes_raw() != raw_x:
        raise InvalidKey("Ed25519 private key 'd' does not match 'x'")
    return KeyMaterial(private=private, **common)


def _str_member(jwk: Mapping[str, Any], name: str) -> str:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise InvalidKey(f"JWK member {name!r} must be a base64url string")
    return value


# --- writing ---------------------------------------------------------------------------------


def _int_to_b64(value: int, size: int | None = None) -> str:
    length = size if size is not None else max(1, (value.bit_length() + 7) // 8)
    return b64encode(value.to_bytes(length, "big"))


def jwk_members(
    secret: bytes | None,
    private: PrivateKey | None,
    public: PublicKey | None,
    *,
    include_private: bool,
) -> dict[str, str]:
    """The key-type members of a JWK (``kty``, ``n``/``e``, ``crv``/``x``/``y``, ``k``, ...)."""
    if secret is not None:
        return {"kty": "oct", "k": b64encode(secret)}
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        jwk = {"kty": "RSA", "n": _int_to_b64(numbers.n), "e": _int_to_b64(numbers.e)}
        if include_private and isinstance(private, rsa.RSAPrivateKey):
            priv = private.private_numbers()
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
        crv = CURVE_NAMES[public.curve.name]
        size = COORDINATE_SIZE[crv]
        nums = public.public_numbers()
        jwk = {"kty": "EC", "crv": crv, "x": _int_to_b64(nums.x, size)}
        jwk["y"] = _int_to_b64(nums.y, size)
        if include_private and isinstance(private, ec.EllipticCurvePrivateKey):
            jwk["d"] = _int_to_b64(private.private_numbers().private_value, size)
        return jwk
    assert isinstance(public, ed25519.Ed25519PublicKey)
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64encode(raw)}
    if include_private and isinstance(private, ed25519.Ed25519PrivateKey):
        jwk["d"] = b64encode(
            private.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
        )
    return jwk


def thumbprint(members: Mapping[str, str]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) of a JWK's key-type members."""
    required = _THUMBPRINT_MEMBERS[members["kty"]]
    canonical = dumps_text({name: members[name] for name in required})
    return b64encode(hashlib.sha256(canonical.encode()).digest())
