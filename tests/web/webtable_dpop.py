"""DPoP cases of the shared table (RFC 9449), run like the others against the four apps.

Designs (``webdesigns.py``): ``dpop`` (bearer and DPoP, proof ids shared through the store),
``dpop-required`` (DPoP only) and ``dpop-nonce`` (server nonces). The victim is browser ``a``;
browser ``t`` is the thief, with a key of its own and whatever it copied out of ``a``'s page. The
proofs, honest and forged, are made by ``webdpop.py``; every attack is sent over HTTP to the app
and must be refused, and the victim's own requests must keep working afterwards.
"""

from __future__ import annotations

from webclient import STEAL_REFRESH, STOLEN, Case, Expect, Step
from webtable import ALICE, ASGI_ONLY, DOWN, OK, UNAUTH

BOTH = ("dpop", "dpop-required")
ALL_DPOP = (*BOTH, "dpop-nonce")

BOUND = Expect(200, json={"user": "alice", "design": "hybrid", "dpop": True, "scopes": ["read"]})
LOGIN = Step(
    "POST /auth/login", Expect(200, json={"token_type": "DPoP"}), json={**ALICE, "design":
    "hybrid"}, dpop="proof",
)  # fmt: skip
REFRESH = Step("POST /auth/refresh", Expect(200, json={"token_type": "DPoP"}), dpop="proof")
ME = Step("GET /me", BOUND, bearer="access", dpop="proof")
CHALLENGE = "~algs="


def proof_refused(code: str, error: str = "invalid_dpop_proof") -> Expect:
    return Expect(401, code, headers={"www-authenticate": f'~DPoP error="{error}"'})


def endpoint_refused(code: str | None = None, error: str = "invalid_dpop_proof") -> Expect:
    """A login or refresh refused for its proof: 400 with the token endpoint's ``error``; the
    refresh cookie, if any, is left alone."""
    return Expect(400, code, json={"error": error}, cookies={"refresh": "kept"})


def attack(spec: str, code: str, error: str = "invalid_dpop_proof", **kw: object) -> Step:
    return Step("GET /me", proof_refused(code, error), bearer="access", dpop=spec, **kw)  # type: ignore[arg-type]


# fmt: off
DPOP_CASES: tuple[Case, ...] = (
    Case("DPoP login binds the token; every request carries a fresh proof", BOTH, (
        LOGIN,
        ME,
        ME,
        Step("GET /bound", BOUND, bearer="access", dpop="proof"),
        Step("GET /recent", BOUND, bearer="access", dpop="proof"),
    )),
    Case("no credential: the challenge offers DPoP with its algorithms", BOTH, (
        Step("GET /me", UNAUTH._replace(headers={"www-authenticate": CHALLENGE})),
    )),
    Case("a bound token sent as Bearer is refused", BOTH, (
        LOGIN,
        Step("GET /me", proof_refused("ERR_DPOP_BINDING_MISMATCH", "invalid_token"),
             bearer="access"),
        Step("GET /me", proof_refused("ERR_DPOP_BINDING_MISMATCH", "invalid_token"),
             bearer="access", dpop="proof", headers={"bearer-scheme": "1"}),
        ME,
    )),
    Case("refresh rotates only with a proof from the family's key", BOTH, (
        LOGIN,
        Step("POST /auth/refresh", endpoint_refused()),
        REFRESH,
        ME,
        REFRESH,
        ME,
    )),
    Case("proofs for another request, time or token are refused", BOTH, (
        LOGIN,
        attack("method=DELETE", "ERR_DPOP_REQUEST_MISMATCH"),
        attack("url=/admin", "ERR_DPOP_REQUEST_MISMATCH"),
        attack("ath", "ERR_DPOP_REQUEST_MISMATCH"),
        attack("stale", "ERR_DPOP_IAT_OUT_OF_WINDOW"),
        attack("future", "ERR_DPOP_IAT_OUT_OF_WINDOW"),
        ME,
        attack("replay", "ERR_DPOP_REPLAYED"),
        ME,
    )),
    Case("forged proofs are refused: alg none, HMAC, private jwk, oversized", BOTH, (
        LOGIN,
        attack("alg-none", "ERR_DPOP_PROOF_INVALID"),
        attack("hmac", "ERR_DPOP_PROOF_INVALID"),
        attack("private-jwk", "ERR_DPOP_PROOF_INVALID"),
        attack("big", "ERR_DPOP_PROOF_INVALID"),
        Step("GET /me", proof_refused("ERR_DPOP_PROOF_INVALID"),
             headers={"authorization": "DPoP {access}"}),
        attack("other-key", "ERR_DPOP_BINDING_MISMATCH", "invalid_token"),
        ME,
    )),
    # httpx's in-process WSGI transport keeps the last of two equal headers; a WSGI server joins
    # them (test_web_dpop_servers.py sends two to waitress).
    Case("two DPoP headers are refused", BOTH, (
        LOGIN,
        attack("two", "ERR_DPOP_PROOF_INVALID"),
        ME,
    ), apps=ASGI_ONLY),
    Case("a token copied out of the page is refused from the thief's client", BOTH, (
        LOGIN,
        Step("GET /me", proof_refused("ERR_DPOP_BINDING_MISMATCH", "invalid_token"),
             bearer="{a.access}", dpop="proof", actor="t"),
        Step("GET /me", proof_refused("ERR_DPOP_BINDING_MISMATCH", "invalid_token"),
             bearer="{a.access}", actor="t"),
        ME,
    )),
    Case("a stolen refresh cookie without the key neither rotates nor burns the family", BOTH, (
        LOGIN,
        STEAL_REFRESH,
        Step("POST /auth/refresh", endpoint_refused(), cookies=STOLEN,
             actor="t", jar=False),
        Step("POST /auth/refresh", endpoint_refused("ERR_DPOP_BINDING_MISMATCH"),
             cookies=STOLEN, actor="t", jar=False, dpop="proof"),
        REFRESH,
        ME,
    )),
    Case("devices and logout with a DPoP-bound token", BOTH, (
        LOGIN,
        Step("GET /auth/sessions", OK, bearer="access", dpop="proof"),
        Step("GET /auth/sessions", proof_refused("ERR_DPOP_REPLAYED"), bearer="access",
             dpop="replay"),
        Step("POST /auth/logout", OK, bearer="access", dpop="proof", site="script"),
        Step("GET /me", proof_refused("ERR_TOKEN_REVOKED", "invalid_token"), bearer="access",
             dpop="proof"),
    )),
    Case("login proofs are checked like any other", BOTH, (
        Step("POST /auth/login", endpoint_refused("ERR_DPOP_REQUEST_MISMATCH"),
             json={**ALICE, "design": "hybrid"}, dpop="url=/auth/refresh"),
        Step("POST /auth/login", endpoint_refused("ERR_DPOP_PROOF_INVALID"),
             json={**ALICE, "design": "hybrid"}, dpop="alg-none"),
        LOGIN,
        ME,
    )),
    Case("bearer and DPoP side by side; a DPoP-only route refuses bearer", ("dpop",), (
        Step("POST /auth/login", Expect(200, json={"token_type": "Bearer"}),
             json={**ALICE, "design": "hybrid"}),
        Step("GET /me", Expect(200, json={"user": "alice", "dpop": False}), bearer="access"),
        Step("GET /bound", proof_refused("ERR_DPOP_BINDING_MISMATCH", "invalid_token"),
             bearer="access"),
        Step("POST /auth/refresh", Expect(200, json={"token_type": "Bearer"})),
        Step("GET /me", proof_refused("ERR_DPOP_BINDING_MISMATCH", "invalid_token"),
             bearer="access", dpop="proof"),
    )),
    Case("DPoP required: no bearer login, no bearer token", ("dpop-required",), (
        Step("POST /auth/login", endpoint_refused("ERR_DPOP_PROOF_INVALID"),
             json={**ALICE, "design": "hybrid"}),
        LOGIN,
        Step("GET /me", proof_refused("ERR_DPOP_BINDING_MISMATCH", "invalid_token"),
             bearer="access"),
        Step("GET /me", proof_refused("ERR_DPOP_PROOF_INVALID"), bearer="access",
             dpop="private-jwk"),
        ME,
    )),
    Case("server nonces: asked for, used, rotated into every answer", ("dpop-nonce",), (
        Step("POST /auth/login", Expect(400, "ERR_DPOP_NONCE_REQUIRED", json={"error":
             "use_dpop_nonce"}, headers={"dpop-nonce": "~", "www-authenticate":
             '~DPoP error="use_dpop_nonce"'}), json={**ALICE, "design": "hybrid"}, dpop="proof"),
        Step("POST /auth/login", Expect(200, json={"token_type": "DPoP"}, headers={
             "dpop-nonce": "~"}), json={**ALICE, "design": "hybrid"}, dpop="proof"),
        Step("GET /me", BOUND._replace(headers={"dpop-nonce": "~"}), bearer="access",
             dpop="proof"),
        Step("GET /me", proof_refused("ERR_DPOP_NONCE_REQUIRED", "use_dpop_nonce")._replace(
             headers={"dpop-nonce": "~", "www-authenticate": '~error="use_dpop_nonce"'}),
             bearer="access", dpop="no-nonce"),
        Step("POST /auth/refresh", endpoint_refused("ERR_DPOP_NONCE_REQUIRED",
             "use_dpop_nonce"), dpop="no-nonce"),
        Step("POST /auth/refresh", Expect(200, json={"token_type": "DPoP"}), dpop="proof"),
        Step("GET /me", BOUND, bearer="access", dpop="proof"),
    )),
)
# fmt: on

#: The cases whose replay cache is the store's: run on Redis and PostgreSQL too.
DPOP_STORE_NAMES = (
    "proofs for another request, time or token are refused",
    "a stolen refresh cookie without the key neither rotates nor burns the family",
)
DPOP_STORE_CASES = tuple(
    case._replace(apps=("fastapi", "wsgi"), designs=("dpop",))
    for case in DPOP_CASES
    if case.name in DPOP_STORE_NAMES
)
assert len(DPOP_STORE_CASES) == len(DPOP_STORE_NAMES)

#: The store that shares the proof ids is down (a private Redis, SIGKILLed and restarted): a
#: proof cannot be checked for replay, so the request is refused with 503 (fail closed), the
#: refresh cookie is kept, and everything works again once the store is back.
# fmt: off
DPOP_OUTAGE: tuple[Case, ...] = (
    Case("replay cache down: 503, nothing accepted unchecked, nothing lost", ("dpop",), (
        LOGIN,
        ME,
        Step("STORE down"),
        Step("GET /me", DOWN._replace(cookies={}), bearer="access", dpop="proof"),
        Step("POST /auth/refresh", DOWN._replace(cookies={"refresh": "kept"}), dpop="proof"),
        Step("STORE up"),
        Step("GET /me", BOUND, bearer="access", dpop="proof", eventually=True),
        REFRESH,
        ME,
    )),
)
# fmt: on
