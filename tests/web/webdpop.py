"""DPoP for the scripted browser of ``webclient``: each actor's key, its proofs, and the forged
proofs of the attack cases, made the way an attacker would make them.

A step names its proof with ``dpop=``: ``"proof"`` (an honest proof for this request, with the
server's latest nonce), ``"replay"`` (the actor's previous proof, sent again), or one attack:
``"method=DELETE"`` / ``"url=/other"`` (a proof for another request), ``"stale"`` / ``"future"``
(``iat`` two minutes ago / a minute ahead), ``"ath"`` (for another token), ``"other-key"`` (signed
by a key the token is not bound to), ``"alg-none"``, ``"hmac"`` (a proof "signed" with HS256 and
a symmetric ``jwk``), ``"private-jwk"`` (the private key in the header), ``"big"`` (over 4 KiB),
``"no-nonce"`` (an honest proof without the server's nonce), ``"two"`` (two DPoP headers).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from gatepass import Key
from gatepass.tokens import dpop


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forge(header: dict[str, Any], claims: dict[str, Any], sign: Any) -> str:
    head = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    return head + "." + _b64(sign(head.encode()))


def _claims(method: str, url: str, token: str | None, **extra: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "jti": secrets.token_urlsafe(16),
        "htm": method,
        "htu": url,
        "iat": int(time.time()),
        **extra,
    }
    if token is not None:
        claims["ath"] = dpop.access_token_hash(token)
    return claims


def proof_headers(
    spec: str, memory: dict[str, Any], method: str, url: str, token: str | None
) -> list[tuple[str, str]]:
    """The ``DPoP`` header(s) for ``spec`` (see the module docstring); ``memory`` is the actor's
    page memory (its key, its last proof, the server's latest nonce)."""
    key: Key = memory.setdefault("dpop_key", Key.generate("ES256"))
    nonce = memory.get("dpop_nonce")
    kind, _, arg = spec.partition("=")

    def honest(**kw: Any) -> str:
        options: dict[str, Any] = {"method": method, "url": url, "access_token": token}
        if nonce is not None:
            options["nonce"] = nonce
        options.update(kw)
        signer = options.pop("key", key)
        return dpop.create_proof(signer, **options)

    public = {m: key.to_jwk()[m] for m in ("kty", "crv", "x", "y")}
    if kind == "proof":
        proof = honest()
    elif kind == "replay":
        proof = memory["dpop_last"]
    elif kind == "method":
        proof = honest(method=arg)
    elif kind == "url":
        proof = honest(url=url.split("/", 3)[0] + "//" + url.split("/", 3)[2] + arg)
    elif kind == "stale":
        proof = honest(now=time.time() - 120)
    elif kind == "future":
        proof = honest(now=time.time() + 60)
    elif kind == "ath":
        proof = honest(access_token="a-token-of-someone-else")
    elif kind == "other-key":
        proof = honest(key=memory.setdefault("dpop_other", Key.generate("ES256")))
    elif kind == "no-nonce":
        proof = dpop.create_proof(key, method=method, url=url, access_token=token)
    elif kind == "alg-none":
        header = {"typ": "dpop+jwt", "alg": "none", "jwk": public}
        proof = _forge(header, _claims(method, url, token), lambda _: b"")
    elif kind == "hmac":
        secret = secrets.token_bytes(32)
        header = {"typ": "dpop+jwt", "alg": "HS256", "jwk": {"kty": "oct", "k": _b64(secret)}}
        proof = _forge(
            header,
            _claims(method, url, token),
            lambda data: hmac.new(secret, data, hashlib.sha256).digest(),
        )
    elif kind == "private-jwk":
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.to_jwk(private=True)}
        proof = _forge(header, _claims(method, url, token), key.sign)
    elif kind == "big":
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": public}
        padding = {"pad": "x" * 5000}
        proof = _forge(header, _claims(method, url, token, **padding), key.sign)
    elif kind == "two":
        return [("dpop", honest()), ("dpop", honest())]
    else:
        raise ValueError(f"unknown proof kind {spec!r}")
    memory["dpop_last"] = proof
    return [("dpop", proof)]
