"""What ``gatepass decode`` says about DPoP (RFC 9449): a proof, or a token bound to a key.

A proof (``typ: dpop+jwt``) is read for what a person debugging a refused request needs: the
thumbprint of the key it proves (the value a bound token's ``cnf.jkt`` must equal), the request it
names (``htm``, ``htu``), how old it is against the verifier's window, its ``jti``, ``ath`` and
``nonce``, and whether its ``jwk`` leaks the private key. A token with ``cnf.jkt`` is bound: it
works only beside a proof from that key. Nothing here is verified; the tools page computes the
same document in ``tools/static/dpop.js`` (``tests/tools/test_dpop_tools.py`` compares them).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from gatepass.cli.audit_rules import rules
from gatepass.cli.output import Printer, iso, span
from gatepass.tokens.jwk import thumbprint

# RFC 7638 3.2: the members a thumbprint hashes, per key type (gatepass.tokens.jwk).
_PUBLIC_MEMBERS = {
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
    "OKP": ("crv", "kty", "x"),
    "oct": ("k", "kty"),
}


def is_proof(header: Mapping[str, Any]) -> bool:
    """A DPoP proof by its ``typ`` (media types compare without case)."""
    typ = header.get("typ")
    return isinstance(typ, str) and typ.lower() == rules().data["dpop"]["typ"]


def private_members(jwk: Any) -> list[str]:
    """The private (or secret) members a proof's ``jwk`` holds, in the rules file's order."""
    if not isinstance(jwk, Mapping):
        return []
    return [name for name in rules().data["dpop"]["private_members"] if name in jwk]


def jwk_problem(jwk: Any) -> str | None:
    """Why no thumbprint can be computed from ``jwk``, or None when one can."""
    if jwk is None:
        return "the header has no jwk"
    if not isinstance(jwk, Mapping):
        return "jwk is not a JSON object"
    members = _PUBLIC_MEMBERS.get(jwk.get("kty"))  # type: ignore[arg-type]
    if members is None:
        return "jwk has no known kty (EC, RSA, OKP)"
    absent = [m for m in members if not isinstance(jwk.get(m), str) or not jwk.get(m)]
    if absent:
        return f"jwk lacks {', '.join(absent)}"
    return None


def _age(iat: Any, now: float) -> tuple[int | None, str]:
    """Seconds since ``iat`` and what a default verifier makes of it."""
    window = rules().data["dpop"]
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        return None, "no iat: every verifier refuses the proof"
    age = math.floor(now - iat + 0.5)  # Math.round, as the page rounds
    if now - iat > window["max_age"]:
        return age, (
            f"made {span(now - iat)} ago: older than the {window['max_age']} s a default "
            "verifier accepts"
        )
    if iat - now > window["leeway"]:
        return age, (
            f"dated {span(iat - now)} in the future: beyond the {window['leeway']} s a default "
            "verifier allows"
        )
    return age, f"made {span(now - iat)} ago" if iat <= now else "made just now"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def proof_view(header: Mapping[str, Any], claims: Mapping[str, Any], now: float) -> dict[str, Any]:
    jwk = header.get("jwk")
    problem = jwk_problem(jwk)
    jkt = None if problem is not None else thumbprint(jwk)  # type: ignore[arg-type]
    age, age_note = _age(claims.get("iat"), now)
    leaked = private_members(jwk)
    htm, htu = _text(claims.get("htm")), _text(claims.get("htu"))
    summary = f"DPoP proof for {htm or '?'} {htu or '?'}"
    summary += f" by key {jkt}" if jkt else f" ({problem})"
    if leaked:
        summary += f"; its jwk holds the PRIVATE key ({', '.join(leaked)}): refused by verifiers"
    return {
        "kind": "proof",
        "jkt": jkt,
        "jwk_problem": problem,
        "private_key_members": leaked,
        "htm": htm,
        "htu": htu,
        "iat": claims.get("iat"),
        "iat_age_seconds": age,
        "iat_note": age_note,
        "jti": _text(claims.get("jti")),
        "ath": _text(claims.get("ath")),
        "nonce": _text(claims.get("nonce")),
        "summary": summary,
    }


def bound_view(cnf: Any) -> dict[str, Any] | None:
    """A token's confirmation (``cnf``): bound to a key thumbprint, another method, or nothing."""
    if cnf is None:
        return None
    jkt = cnf.get("jkt") if isinstance(cnf, Mapping) else None
    if isinstance(jkt, str) and jkt:
        summary = f"bound to key {jkt}: usable only with a DPoP proof from that key"
    else:
        methods = ", ".join(cnf) if isinstance(cnf, Mapping) and cnf else "nothing usable"
        summary = (
            f"bound by cnf ({methods}), not by a DPoP key thumbprint (jkt): gatepass refuses it "
            "rather than treat it as a bearer token"
        )
        jkt = None
    return {"kind": "bound_token", "jkt": jkt, "summary": summary}


def describe(
    header: Mapping[str, Any], claims: Mapping[str, Any] | None, now: float
) -> dict[str, Any] | None:
    """The ``dpop`` member of ``decode --json``: a proof's view, a binding, or None."""
    if is_proof(header):
        return proof_view(header, claims or {}, now)
    if claims is None:
        return None
    return bound_view(claims.get("cnf"))


def render(printer: Printer, view: Mapping[str, Any]) -> None:
    """The DPoP section of ``gatepass decode``'s text output."""
    if view["kind"] == "bound_token":
        printer.line(printer.paint("DPoP binding (cnf)", "bold"))
        printer.line(f"  {view['summary']}")
        return
    printer.line(printer.paint("DPoP proof (RFC 9449), NOT verified", "bold"))
    if view["jkt"]:
        printer.line(f"  key thumbprint (jkt): {view['jkt']}")
        printer.line("      a bound token's cnf.jkt must equal it")
    else:
        printer.line(printer.paint(f"  no key thumbprint: {view['jwk_problem']}", "red"))
    if view["private_key_members"]:
        leaked = ", ".join(view["private_key_members"])
        printer.line(
            printer.paint(f"  PRIVATE KEY in jwk ({leaked}): refused by verifiers;", "bold", "red")
        )
        printer.line("      treat this key as compromised")
    printer.line(f"  request: {view['htm'] or '(no htm)'} {view['htu'] or '(no htu)'}")
    iat = view["iat"]
    when = f" ({iso(iat)})" if view["iat_age_seconds"] is not None else ""
    printer.line(f"  iat: {view['iat_note']}{when}")
    printer.line(f"  jti: {view['jti'] or '(none)'}")
    ath = view["ath"] or "(none: sent without an access token, as at login or refresh)"
    printer.line(f"  ath: {ath}")
    printer.line(f"  nonce: {view['nonce'] or '(none)'}")
