"""The review rules that need neither a key nor a word list: ``gatepass audit``'s keyless part,
the warnings of ``gatepass decode``.

The data (ids, severities, texts, limits, words, patterns) comes from the rules file
(:mod:`gatepass.cli.audit_rules`); the tools page applies the same file with the same logic in
``tools/static/audit.js``. Keep the two in step: rules run in the same order here and there, and
``tests/tools/test_audit_parity.py`` compares their findings token by token.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import pairwise
from typing import Any, TypeGuard

from gatepass.cli.audit_rules import Rules, compact, json_type, quote, rules, words
from gatepass.cli.dpop_view import is_proof, jwk_problem
from gatepass.cli.findings import Finding, sort_findings
from gatepass.cli.lenient import Parsed, parse_lenient
from gatepass.cli.output import span
from gatepass.errors import InvalidToken
from gatepass.tokens import jwt
from gatepass.tokens.algorithms import ALGORITHM_SPECS

#: Read at most this much of a token: far above any real token (the strict parser's limit).
MAX_TOKEN = 4 * 1024 * 1024


def findings(token: str, now: float) -> list[Finding]:
    """Every keyless finding for ``token`` judged at ``now``, most severe first."""
    r = rules()
    parsed = parse_lenient(token)
    found: list[Finding] = []
    if parsed.problems:
        variant = "header" if parsed.header is not None else "no-header"
        found.append(r.make("malformed", variant, problems="; ".join(parsed.problems)))
    else:
        try:
            jwt.inspect(token, max_size=MAX_TOKEN)
        except InvalidToken as exc:
            found.append(r.make("not-canonical", problem=str(exc)))
    size = len(token)
    if size > r.limits["size"]:
        variant = "over-header-limit" if size > r.limits["size_high"] else "over"
        found.append(r.make("size", variant, size=size, limit=r.limits["size"]))
    if parsed.header is not None:
        found.extend(header_findings(r, parsed))
    if parsed.claims is not None:
        found.extend(claim_findings(r, parsed.header or {}, parsed.claims, now))
    return sort_findings(found)


def header_findings(r: Rules, parsed: Parsed) -> list[Finding]:
    header = parsed.header or {}
    found: list[Finding] = []
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg:
        found.append(r.make("alg-missing"))
    elif alg.lower() == "none":
        found.append(r.make("alg-none", alg=quote(alg, 20)))
    elif alg not in ALGORITHM_SPECS:
        found.append(r.make("alg-unknown", alg=quote(alg, 20)))
    elif ALGORITHM_SPECS[alg].family == "HMAC":
        found.append(r.make("hmac", alg=alg))
    signed = isinstance(alg, str) and alg.lower() != "none"
    if signed and parsed.signing_input and not parsed.signature:
        found.append(r.make("signature-empty", alg=quote(str(alg), 20)))
    for name in ("jku", "x5u"):
        if name in header:
            value = header[name]
            shown = quote(value, 60) if isinstance(value, str) else compact(value, 60)
            https = isinstance(value, str) and value.lower().startswith("https://")
            insecure = "" if https else r.note(f"header-{name}", "insecure_note")
            found.append(r.make(f"header-{name}", value=shown, insecure=insecure))
    proof = is_proof(header)
    for name in ("jwk", "x5c"):
        # A DPoP proof must carry its key in jwk: that is what it proves possession of.
        if name in header and not (proof and name == "jwk"):
            found.append(r.make(f"header-{name}"))
    if proof:
        found.extend(proof_key_findings(r, header.get("jwk")))
    found.extend(kid_findings(r, header.get("kid")))
    if "crit" in header:
        crit = header["crit"]
        valid = (
            isinstance(crit, list)
            and bool(crit)
            and all(isinstance(c, str) and c in header for c in crit)
        )
        malformed = "" if valid else r.note("crit", "malformed_note")
        variant = "valid" if valid else "malformed"
        found.append(r.make("crit", variant, crit=compact(crit, 60), malformed=malformed))
    if "zip" in header:
        found.append(r.make("header-zip"))
    if header.get("b64") is False:
        found.append(r.make("header-b64"))
    typ = header.get("typ")
    if typ is None:
        found.append(r.make("typ-missing"))
    elif isinstance(typ, str) and typ.upper() == "JWT":
        found.append(r.make("typ-generic"))
    return found


def proof_key_findings(r: Rules, jwk: Any) -> list[Finding]:
    """A DPoP proof's ``jwk``: private members leak the key; a missing one proves nothing."""
    found = []
    if isinstance(jwk, Mapping):
        leaked = [name for name in r.data["dpop"]["private_members"] if name in jwk]
        if leaked:
            found.append(r.make("dpop-private-key", members=", ".join(leaked)))
    problem = jwk_problem(jwk)
    if problem is not None:
        found.append(r.make("dpop-jwk-missing", problem=f" ({problem})"))
    return found


def kid_findings(r: Rules, kid: Any) -> list[Finding]:
    if kid is None:
        return []
    if not isinstance(kid, str):
        return [r.make("kid-type", type=json_type(kid))]
    reasons = [label for label, pattern in r.kid_patterns if pattern.search(kid)]
    if reasons:
        shown = quote(kid, r.limits["quoted"])
        return [r.make("kid-injection", kid=shown, reasons=", ".join(reasons))]
    if len(kid) > r.limits["kid_length"]:
        return [r.make("kid-length", length=len(kid))]
    return []


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _looks_like_refresh(r: Rules, header: Mapping[str, Any], claims: Mapping[str, Any]) -> bool:
    markers = r.data["refresh_markers"]
    typ = _text(header.get("typ")).lower()
    use = ""
    for name in markers["claims"]:
        if name in claims:
            use = _text(claims[name]).lower()
            break
    contains = markers["typ_contains"]
    return contains in typ or contains in use or typ.endswith(markers["typ_ends_with"])


def _text(value: Any) -> str:
    """A value as text the way both implementations write it: strings as they are, else JSON."""
    if value is None:
        return ""
    return value if isinstance(value, str) else compact(value, 1000)


def claim_findings(
    r: Rules, header: Mapping[str, Any], claims: Mapping[str, Any], now: float
) -> list[Finding]:
    found: list[Finding] = []
    limits = r.limits
    exp, iat, nbf = claims.get("exp"), claims.get("iat"), claims.get("nbf")
    proof = is_proof(header)
    if proof:
        # A proof lives for the verifier's window after iat, not until an exp of its own.
        absent = [name for name in r.data["dpop"]["required_claims"] if name not in claims]
        if absent:
            found.append(r.make("dpop-claims-missing", claims=", ".join(absent)))
    elif exp is None:
        found.append(r.make("exp-missing"))
    elif not _is_number(exp):
        found.append(r.make("exp-type", type=json_type(exp)))
    else:
        if exp <= now:
            found.append(r.make("expired", ago=span(now - exp)))
        if not _looks_like_refresh(r, header, claims):
            start = iat if _is_number(iat) else now
            lifetime = exp - start
            if lifetime > limits["access_token_lifetime"]:
                measured = r.findings["long-lifetime"]["measured"]
                found.append(
                    r.make(
                        "long-lifetime",
                        "over-a-day" if lifetime > limits["long_lifetime_high"] else "over",
                        measured=measured["iat" if _is_number(iat) else "now"],
                        lifetime=span(lifetime),
                        limit=span(limits["access_token_lifetime"]),
                    )
                )
    if _is_number(iat) and iat > now + limits["clock_skew"]:
        found.append(r.make("iat-future", ahead=span(iat - now)))
    if _is_number(nbf) and nbf > now:
        found.append(r.make("not-yet-valid", ahead=span(nbf - now)))
    if not proof:
        found.extend(
            r.make(f"{name}-missing") for name in ("iss", "aud", "sub", "jti") if name not in claims
        )
    found.extend(content_findings(r, claims))
    return found


def _walk(r: Rules, value: Any, path: str, depth: int = 0) -> Iterator[tuple[str, str, Any]]:
    """(path, member name, value) of every member and array item, ``a.b[0].c`` style."""
    if depth > r.limits["nesting"]:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            yield sub, str(key), item
            yield from _walk(r, item, sub, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value[: r.limits["array_items"]]):
            sub = f"{path}[{index}]"
            yield sub, "", item
            yield from _walk(r, item, sub, depth + 1)


def _credential_name(r: Rules, parts: list[str]) -> bool:
    if "".join(parts) in r.credential_names:
        return True
    if any(w in r.credential_words for w in parts):
        return True
    return any(f"{a} {b}" in r.credential_pairs for a, b in pairwise(parts))


def _personal_name(r: Rules, parts: list[str]) -> str | None:
    joined = "".join(parts)
    if joined in r.personal_names:
        return r.personal_names[joined]
    for w in parts:
        if w in r.personal_words:
            return r.personal_words[w]
    return None


def _looks_like_phone(r: Rules, value: str) -> bool:
    digits = sum("0" <= ch <= "9" for ch in value)
    low, high = r.phone_digits
    separated = value.startswith("+") or any(ch in value for ch in " -(")
    return bool(r.phone.fullmatch(value)) and low <= digits <= high and separated


def content_findings(r: Rules, claims: Mapping[str, Any]) -> list[Finding]:
    """Credentials and personal data, by claim name and by value, anywhere in the claims."""
    credentials: list[str] = []
    personal: list[str] = []
    for path, name, value in _walk(r, claims, ""):
        parts = words(name)
        empty = value is None or isinstance(value, bool) or value in ("", [], {})
        kind = _personal_name(r, parts) if not empty else None
        if not empty and _credential_name(r, parts):
            credentials.append(path)
        elif kind is not None:
            personal.append(f"{path} ({kind})")
        elif isinstance(value, str) and r.email.fullmatch(value):
            personal.append(f"{path} (an e-mail address)")
        elif isinstance(value, str) and _looks_like_phone(r, value):
            personal.append(f"{path} (a phone number)")
    listed = r.limits["listed"]
    found = []
    if credentials:
        found.append(r.make("credential-in-claims", paths=", ".join(credentials[:listed])))
    if personal:
        found.append(r.make("personal-data", items=", ".join(personal[:listed])))
    return found
