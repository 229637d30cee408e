"""The article's recommendations as a decision: which login-state design fits an architecture
and its needs, why, and which trade-offs it accepts; the configuration it attaches protects the
app with gatepass's web layer (FastAPI or Flask), never with hand-made cookie and token glue.

:func:`recommend` is a small pure function so that it is testable without a terminal; the
configuration it attaches comes from :mod:`gatepass.cli.advice_config`, the command around it
from :mod:`gatepass.cli.advise`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gatepass.cli import advice_config
from gatepass.cli.advice_config import FRAMEWORKS
from gatepass.cli.inputs import CliError

ARCHITECTURES = {
    "monolith": "a single-server web app (Rails/Django/Laravel style)",
    "spa": "a single-page app talking to its REST API",
    "microservices": "services that call each other (a microservice mesh)",
    "mobile": "a native mobile app and its API",
}


@dataclass(frozen=True)
class Need:
    """One need: what it is (``--help`` and the summary line) and the question that asks it."""

    summary: str
    question: str


NEEDS = {
    "instant_revocation": Need(
        "instant revocation (freeze an account, log out everywhere now)",
        "Must a logout or a frozen account take effect at once, everywhere?",
    ),
    "remember_me": Need(
        "long-lived 'remember me' logins",
        "Do users stay logged in for weeks ('remember me')?",
    ),
    "cross_domain": Need(
        "sharing the login across domains",
        "Must one login work across several domains?",
    ),
}


@dataclass
class Advice:
    arch: str
    needs: dict[str, bool]
    design: str
    title: str
    reasons: list[str] = field(default_factory=list)
    tradeoffs: list[str] = field(default_factory=list)
    config: str = ""
    commands: list[str] = field(default_factory=list)
    framework: str = "fastapi"

    def as_dict(self) -> dict[str, Any]:
        return {
            "arch": self.arch,
            "needs": self.needs,
            "design": self.design,
            "title": self.title,
            "reasons": self.reasons,
            "tradeoffs": self.tradeoffs,
            "framework": self.framework,
            "config": self.config,
            "commands": self.commands,
        }


def recommend(arch: str, needs: dict[str, bool], framework: str = "fastapi") -> Advice:
    """The article's decision, refined by the needs; the configuration for ``framework``."""
    if arch not in ARCHITECTURES:
        raise CliError(f"--arch {arch!r}: choose one of {', '.join(ARCHITECTURES)}")
    if framework not in FRAMEWORKS:
        raise CliError(f"--framework {framework!r}: choose one of {', '.join(FRAMEWORKS)}")
    advice = _decide(arch, needs)
    advice.framework = framework
    if advice.design == "sessions":
        advice.config = advice_config.sessions_config(needs, framework)
    elif advice.design == "hybrid":
        advice.config = advice_config.hybrid_config(needs, framework)
    elif advice.design == "jwt-jwks":
        advice.config = advice_config.jwks_config(needs, framework)
        advice.commands = [
            "gatepass keygen ES256 --out signing",
            "gatepass jwks signing.pub.pem > jwks.json",
        ]
    else:
        advice.config = advice_config.mobile_config(needs, framework)
    if advice.design in ("hybrid", "mobile-jwt"):
        advice.commands = ["gatepass keygen ES256 --out signing"]
    return advice


def _decide(arch: str, needs: dict[str, bool]) -> Advice:
    instant, remember, cross = (
        needs["instant_revocation"],
        needs["remember_me"],
        needs["cross_domain"],
    )
    if arch == "monolith" and not cross:
        advice = Advice(
            arch,
            needs,
            "sessions",
            "Server-side sessions in an HttpOnly cookie",
            reasons=[
                "One server renders the pages: a session cookie is the simplest thing that works, "
                "and the browser sends it without any client code.",
                "Logout and 'log out everywhere' really end the login: the server deletes the "
                "session and the next request is refused.",
                "The cookie carries only a 256-bit random id (32-64 bytes), not the user's data; "
                "gatepass stores just its SHA-256, so a leaked store holds no live session.",
            ],
            tradeoffs=[
                "One store lookup per request (Redis or SQL: well under a millisecond on a LAN).",
                "The store is on the login path: if it is down, nobody is logged in (gatepass "
                "fails closed).",
                "Cookies need CSRF protection: gatepass's web layer checks Sec-Fetch-Site and "
                "Origin on every unsafe request (a session-bound token for clients that send "
                "neither), on login too.",
            ],
        )
        if instant:
            advice.reasons.append(
                "Instant revocation comes free: deleting the session is the revocation."
            )
        if remember:
            advice.reasons.append(
                "Remember-me stays a session: a long-lived row you can delete, not a 30-day JWT "
                "that stays valid for 29 days after it leaks."
            )
            advice.tradeoffs.append("Remember-me sessions keep rows in the store for weeks.")
        return advice

    if arch in ("monolith", "spa"):
        title = "Hybrid: a 15-minute JWT access token plus a rotating refresh cookie"
        if instant:
            title = "Hybrid with replicated revocation: short JWT, rotating refresh cookie"
        advice = Advice(
            arch,
            needs,
            "hybrid",
            title,
            reasons=[
                "The API verifies a short access token by signature alone, sent in the "
                "Authorization header, so it works across origins without cookie set-up.",
                "The long-lived credential is a refresh token in an HttpOnly cookie: JavaScript "
                "(and so XSS) cannot read it, and it is a server-side record you can delete.",
                "Refresh tokens are single use and rotated; presenting an old one revokes the "
                "whole family (RFC 9700 reuse detection), so a stolen refresh token is caught.",
            ],
            tradeoffs=[
                "Two mechanisms to run: the token issuer and the refresh store.",
                "The page loads gatepass.js (served by the web layer): it refreshes before exp "
                "and once on a 401, one refresh at a time across tabs.",
                "The access token lives in page memory: an XSS can use it while the page is open "
                "(but cannot exfiltrate the refresh cookie).",
            ],
        )
        if arch == "monolith":
            advice.reasons.insert(
                0,
                "Sessions would fit one server, but you need the login across domains: a bearer "
                "token crosses domains easily, cookies need CORS and SameSite=None.",
            )
        if cross:
            advice.tradeoffs.append(
                "Across sites the refresh cookie needs SameSite=None and CORS with credentials; "
                "host the SPA and API under one registrable domain to keep SameSite=Strict."
            )
        if not instant:
            advice.tradeoffs.append(
                "After logout an access token stays valid until its exp (at most 15 min)."
            )
    elif arch == "microservices":
        title = "JWT access tokens signed with an asymmetric key, verified through JWKS"
        advice = Advice(
            arch,
            needs,
            "jwt-jwks",
            title,
            reasons=[
                "Each service verifies the signature with the public key and never calls back to "
                "the auth service: no shared store on the request path.",
                "ES256 keys published as a JWKS: services can verify but never mint tokens "
                "(unlike a shared HMAC secret), and keys rotate without downtime.",
                "Tokens are typed (at+jwt) and bound to iss and aud, so a token for one service "
                "cannot be replayed at another.",
            ],
            tradeoffs=[
                "Key management: rotate the signing key and keep old keys in the JWKS until their "
                "tokens expire (gatepass KeyRing does this).",
                "Every claim rides on every request: keep tokens small (ids, not profiles).",
            ],
        )
        if not instant:
            advice.tradeoffs.append(
                "A token cannot be recalled before exp: keep the lifetime at 15 minutes or less."
            )
        if remember:
            advice.reasons.append(
                "Remember-me belongs at the edge: the user-facing app keeps a session or a "
                "refresh token; services only ever see short access tokens."
            )
        if cross:
            advice.reasons.append(
                "Crossing domains is the JWT's strength: the Authorization header works anywhere."
            )
    else:
        title = "JWT access token plus a rotating refresh token (no cookies)"
        advice = Advice(
            arch,
            needs,
            "mobile-jwt",
            title,
            reasons=[
                "Native HTTP clients handle an explicit Authorization header far better than a "
                "browser-style cookie jar.",
                "The access token is short; the refresh token is single use, rotated, and kept in "
                "the Keychain / Android Keystore; reuse of an old one revokes its family.",
            ],
            tradeoffs=[
                "The app must refresh on 401 and store the refresh token securely.",
                "A stolen device holds a live refresh token until it is revoked or expires.",
            ],
        )
        if remember:
            advice.reasons.append(
                "Remember-me is the refresh family's long absolute lifetime (90 days here), "
                "never a long-lived access token."
            )
        if cross:
            advice.reasons.append("Cross-domain does not matter here: no cookies are involved.")
        if not instant:
            advice.tradeoffs.append(
                "After logout an access token stays valid until its exp (at most 15 min)."
            )

    if instant:
        advice.reasons.append(
            "Instant revocation without losing lookup-free verification: gatepass's replicated "
            "revocation keeps the denylist and per-user cut-offs in every process's memory and "
            "pushes changes through the store (Redis pub/sub, PostgreSQL LISTEN/NOTIFY)."
        )
        advice.tradeoffs.append(
            "Revocation reaches other processes within a bounded, measured delay (milliseconds "
            "on a LAN), not atomically; a process that loses its feed resynchronises or fails "
            "closed. Needs a shared store. If that is unacceptable, use session cookies."
        )
    return advice
