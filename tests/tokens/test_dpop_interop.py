"""DPoP interop with a second implementation, both ways, driven through Node.js.

* Proofs made by panva's ``dpop`` package (what browser and Node clients use) verify here, and the
  thumbprint gatepass computes is the one ``dpop.calculateThumbprint`` computes.
* Proofs made by gatepass verify with panva's ``jose`` (``jwtVerify`` with ``EmbeddedJWK``: typ,
  alg allow-list, public embedded key, signature, age) plus RFC 9449's claim checks, and jose's
  ``calculateJwkThumbprint`` agrees with gatepass.
* Forged proofs are refused by both.

The packages are pinned exactly in ``tests/tokens/dpop_node/package.json`` and installed into its
git-ignored ``node_modules`` by the ``npm_install`` fixture: without Node.js or the registry these
tests skip loudly, and under CI=true they fail.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from dpophelp import NOW, URL, forge_proof, public_jwk, verifier_at
from tokhelp import b64e, compact

from gatepass import Key
from gatepass.errors import InvalidDPoPProof
from gatepass.tokens import dpop
from gatepass.tokens.dpop_replay import MemoryReplayCache

NODE_DIR = Path(__file__).parent / "dpop_node"
NODE_ALGS = ("ES256", "PS256", "RS256", "Ed25519")  # every alg the dpop package signs with
Node = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture(scope="module")
def node(node_path: str, npm_install: Callable[[Path], Path]) -> Node:
    npm_install(NODE_DIR)

    def run(request: dict[str, Any]) -> dict[str, Any]:
        done = subprocess.run(
            [node_path, str(NODE_DIR / "interop.mjs")],
            input=json.dumps(request).encode(),
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
        answer: dict[str, Any] = json.loads(done.stdout)
        return answer

    return run


@pytest.fixture(scope="module")
def gatepass_keys() -> dict[str, Key]:
    rsa = Key.generate("RS256").to_pem(private=True)
    keys = {
        alg: Key.from_pem(rsa, alg=alg)
        for alg in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
    }
    keys.update({alg: Key.generate(alg) for alg in ("ES256", "ES384", "ES512", "EdDSA", "Ed25519")})
    return keys


def test_node_dpop_proofs_verify_here(node: Node) -> None:
    requests = []
    for alg in NODE_ALGS:
        requests.append({"alg": alg, "htm": "GET", "htu": URL})
        requests.append(
            {"alg": alg, "htm": "POST", "htu": URL, "accessToken": "at.x~y", "nonce": "n-1"}
        )
    made = node({"make": requests})["made"]
    assert len(made) == len(requests)
    verifier = dpop.DPoPVerifier(replay=MemoryReplayCache())  # the real clock: node used its own
    for request, answer in zip(requests, made, strict=True):
        result = verifier.verify(
            answer["proof"],
            method=request["htm"],
            url=request["htu"] + "?page=1",
            access_token=request.get("accessToken"),
            nonce=request.get("nonce"),
        )
        assert result.jkt == answer["jkt"]  # computed independently by dpop.calculateThumbprint
        assert result.alg == request["alg"] and abs(result.iat - time.time()) < 120
        with pytest.raises(InvalidDPoPProof):  # and the usual refusals apply to them
            verifier.verify(answer["proof"], method=request["htm"], url=request["htu"])
    with pytest.raises(InvalidDPoPProof):
        dpop.DPoPVerifier(replay=MemoryReplayCache()).verify(
            made[1]["proof"], method="POST", url=URL, access_token="another", nonce="n-1"
        )


def _node_check(proof: str, alg: str, **extra: Any) -> dict[str, Any]:
    return {
        "proof": proof,
        "htm": "GET",
        "htu": URL,
        "now": NOW,
        "maxAge": 60,
        "algorithms": [alg],
        **extra,
    }


def test_gatepass_proofs_verify_in_node(node: Node, gatepass_keys: dict[str, Key]) -> None:
    checks, expected = [], []
    for alg, key in gatepass_keys.items():
        proof = dpop.create_proof(key, method="GET", url=URL, now=NOW)
        with_token = dpop.create_proof(
            key, method="GET", url=URL, access_token="at.1", nonce="n", now=NOW
        )
        checks += [
            _node_check(proof, alg),
            _node_check(with_token, alg, accessToken="at.1", nonce="n"),
        ]
        expected += [key.thumbprint()] * 2
    verified = node({"verify": checks})["verified"]
    for check, answer, jkt in zip(checks, verified, expected, strict=True):
        assert answer["ok"], (check["algorithms"], answer)
        assert answer["jkt"] == jkt and answer["iat"] == NOW
        # and gatepass agrees with itself on the same proof
        verifier_at().verify(
            check["proof"], method="GET", url=URL, access_token=check.get("accessToken")
        )


def test_forgeries_are_refused_by_both(node: Node, gatepass_keys: dict[str, Key]) -> None:
    key, thief = gatepass_keys["ES256"], Key.generate("ES256")
    private = {
        m: v for m, v in key.to_jwk(private=True).items() if m in ("kty", "crv", "x", "y", "d")
    }
    claims = {"jti": "j-1", "htm": "GET", "htu": URL, "iat": NOW}
    honest = forge_proof(key)
    body, signature = honest.rsplit(".", 1)
    flipped = body + "." + ("B" if signature[0] == "A" else "A") + signature[1:]
    forgeries = {
        "signed by another key than its jwk": forge_proof(thief, jwk_of=key),
        "private key in jwk": forge_proof(key, header={"jwk": private}),
        "alg none": compact({"typ": "dpop+jwt", "alg": "none", "jwk": public_jwk(key)}, claims)
        + ".",
        "typ JWT": forge_proof(key, header={"typ": "JWT"}),
        "another method": forge_proof(key, claims={"htm": "POST"}),
        "another URL": forge_proof(key, claims={"htu": "https://api.example/admin"}),
        "stale": forge_proof(key, claims={"iat": NOW - 600}),
        "ath for another token": forge_proof(key, claims={"ath": b64e(b"x" * 32)}),
        "signature changed": flipped,
    }
    checks = [_node_check(proof, "ES256", accessToken="at.1") for proof in forgeries.values()]
    verified = node({"verify": [*checks, _node_check(honest, "ES256")]})["verified"]
    assert verified[-1]["ok"], verified[-1]  # the control: an honest proof passes in node
    for (name, proof), answer in zip(forgeries.items(), verified, strict=False):
        assert not answer["ok"], name
        print(f"node refuses {name}: {answer['error']}")
        with pytest.raises(InvalidDPoPProof):
            verifier_at().verify(proof, method="GET", url=URL, access_token="at.1")
