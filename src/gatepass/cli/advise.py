"""``gatepass advise``: the article's recommendations as a decision aid.

Given the architecture and the needs, recommend one design (session cookies, the hybrid, JWT with
JWKS, or JWT + refresh for mobile), say why, list the trade-offs accepted, and print the gatepass
configuration for it. The logic is a small pure function (:func:`recommend`) so it is testable
without a terminal.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import Any

from gatepass.cli.args import add_json, new_command
from gatepass.cli.inputs import CliError
from gatepass.cli.output import Printer, emit_json

ARCHITECTURES = {
    "monolith": "a single-server web app (Rails/Django/Laravel style)",
    "spa": "a single-page app talking to its REST API",
    "microservices": "services that call each other (a microservice mesh)",
    "mobile": "a native mobile app and its API",
}
NEEDS = {
    "instant_revocation": "instant revocation (freeze an account, logout everywhere now)",
    "remember_me": "long-lived 'remember me' logins",
    "cross_domain": "sharing the login across domains",
}

_EPILOG = """\
examples:
  gatepass advise --arch monolith
  gatepass advise --arch spa --instant-revocation
  gatepass advise --arch microservices --cross-domain --json
  gatepass advise --arch mobile --remember-me
  gatepass advise                      # asks, when run on a terminal

architectures: monolith, spa (SPA + API), microservices, mobile.
Exit codes: 0 advice printed, 2 usage error (e.g. --arch missing and stdin not a terminal).
"""


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "arch": self.arch,
            "needs": self.needs,
            "design": self.design,
            "title": self.title,
            "reasons": self.reasons,
            "tradeoffs": self.tradeoffs,
            "config": self.config,
            "commands": self.commands,
        }


# --- configuration snippets (Python, using the public gatepass API) -----------------------------

_STORE = 'store = gatepass.open_store("redis://127.0.0.1:6379/0")  # or sqlite:///..., postgresql://...\n'

_SESSIONS = """\
import gatepass

{store}sessions = gatepass.Sessions(
    store,
    idle_timeout=30 * 60,  # signed out after 30 min without a request
    absolute_timeout=12 * 3600,  # and after 12 h whatever happens
    touch_interval=60,  # sliding renewal writes at most once a minute{remember_opts}
)

# Login, after checking the password: rotate by creating a fresh session.
token, record = sessions.create(user_id, remember={remember}, metadata={{"ua": ua, "ip": ip}})
# Set-Cookie: __Host-session=<token>; Secure; HttpOnly; SameSite={samesite}; Path=/{cookie_note}

# Every request: one store lookup; None means "not logged in".
record = sessions.get(cookie_value)

# Logout, and "log out everywhere" (takes effect on the very next request):
sessions.revoke(cookie_value)
sessions.revoke_all(user_id, except_token=cookie_value)
"""

_REMEMBER_SESSIONS = """
    remember_idle_timeout=14 * 86400,  # remember-me: 14 days idle
    remember_absolute_timeout=30 * 86400,  # and 30 days at most, still revocable"""

_ACCESS = """\
import gatepass
from pathlib import Path

{store}# Signing key from `gatepass keygen ES256 --out signing`; the ring keeps old keys verifying
# until their tokens expire when you rotate.
keys = gatepass.KeyRing(gatepass.Key.from_pem(Path("signing.key.pem").read_bytes()))
access = gatepass.AccessTokens(
    keys,
    issuer="https://auth.example.com",
    audience="{audience}",
    ttl={ttl},  # {ttl_note}
    revocation="{revocation}",  # {revocation_note}
    store=store,
)
"""

_REFRESH = """\
refresh = gatepass.RefreshTokens(
    store,
    access,
    idle_timeout={idle},  # {idle_note}
    absolute_timeout={absolute},  # {absolute_note}
)

# Login: a refresh token (single use, rotated, reuse revokes its whole family) and an access JWT.
refresh_token, access_token = refresh.start(user_id)
{delivery}
# Every API request: Authorization: Bearer <access_token>; no store lookup{lookup_note}.
claims = access.verify(access_token)  # raises gatepass.InvalidToken

# When the access token expires (401): swap the refresh token for a new pair.
refresh_token, access_token = refresh.rotate(refresh_token)

# Logout: end the refresh family{logout_note}.
refresh.revoke(refresh_token)
"""

_SPA_DELIVERY = """\
# Return access_token in the JSON body: the SPA keeps it in memory, never in localStorage.
# Set-Cookie: __Secure-refresh=<refresh_token>; Secure; HttpOnly; SameSite={samesite};
#             Path=/auth/refresh{cors}"""

_MOBILE_DELIVERY = """\
# Return both in the JSON body. The app stores refresh_token in the Keychain / Android
# Keystore (never in plain preferences) and keeps access_token in memory; no cookies."""

_MICRO = """\
# Auth service: issue short access tokens for the services.
token = access.issue(user_id, scopes=("orders:read",))
# Publish the public keys at https://auth.example.com/.well-known/jwks.json:
jwks_document = keys.jwks()  # or once, from files: gatepass jwks signing.pub.pem

# Every other service verifies locally (no call back to the auth service):
verifier = gatepass.AccessTokens(
    gatepass.JWKSClient("https://auth.example.com/.well-known/jwks.json"),
    issuer="https://auth.example.com",
    audience="orders",{verifier_revocation}
)
claims = verifier.verify(bearer_token)  # signature, exp, iss, aud and typ at+jwt checked
"""

_REVOKE_NOTE = """
# Instant revocation: every process holds the denylist in memory and gets changes pushed
# through the store, so verify stays lookup-free.
access.revoke(access_token)  # this token, everywhere
access.revoke_user(user_id)  # "freeze account": every token issued before now
"""


def _sessions_config(needs: dict[str, bool]) -> str:
    cross = needs["cross_domain"]
    return _SESSIONS.format(
        store=_STORE,
        remember="remember_me" if needs["remember_me"] else "False",
        remember_opts=_REMEMBER_SESSIONS if needs["remember_me"] else "",
        samesite="None" if cross else "Lax",
        cookie_note=(
            "\n# Cross-site: SameSite=None needs CORS with credentials for exact origins and the"
            "\n# CSRF checks (Origin / Sec-Fetch-Site) gatepass applies to every cookie."
            if cross
            else ""
        ),
    )


def _access_config(needs: dict[str, bool], *, audience: str, mobile: bool) -> str:
    instant = needs["instant_revocation"]
    ttl, ttl_note = (
        (5 * 60, "5 min: short, even with revocation")
        if instant
        else (
            15 * 60,
            "15 min: a stolen token is useful only this long",
        )
    )
    text = _ACCESS.format(
        store=_STORE,
        audience=audience,
        ttl=ttl,
        ttl_note=ttl_note,
        revocation="replicated" if instant else "stateless",
        revocation_note=(
            "denylist pushed to every process: lookup-free verify"
            if instant
            else "valid until exp; no lookups at all"
        ),
    )
    return text


def _refresh_config(needs: dict[str, bool], *, mobile: bool) -> str:
    long = needs["remember_me"] or mobile
    cross = needs["cross_domain"]
    if mobile:
        delivery = _MOBILE_DELIVERY
    else:
        delivery = _SPA_DELIVERY.format(
            samesite="None" if cross else "Strict",
            cors=(
                "\n# Cross-site API: CORS with credentials for the SPA's exact origin only; the"
                "\n# Origin check still protects /auth/refresh from CSRF."
                if cross
                else ""
            ),
        )
    return _REFRESH.format(
        idle=f"{30 if long else 1} * 86400" if long else "24 * 3600",
        idle_note="unused this long: log in again" if long else "a day without use: log in again",
        absolute=f"{90 if mobile else 30} * 86400" if long else "7 * 86400",
        absolute_note="the remember-me limit; still revocable" if long else "at most a week",
        delivery=delivery,
        lookup_note=" (revocation is pushed, not looked up)" if needs["instant_revocation"] else "",
        logout_note=" and deny the current access token" if needs["instant_revocation"] else "",
    )


def recommend(arch: str, needs: dict[str, bool]) -> Advice:
    """The article's decision, refined by the needs."""
    if arch not in ARCHITECTURES:
        raise CliError(f"--arch {arch!r}: choose one of {', '.join(ARCHITECTURES)}")
    instant, remember, cross = (
        needs["instant_revocation"],
        needs["remember_me"],
        needs["cross_domain"],
    )
    commands: list[str] = []
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
                "Cookies need CSRF protection: SameSite=Lax plus gatepass's Origin/Fetch-Metadata "
                "checks.",
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
        advice.config = _sessions_config(needs)
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
                "The SPA must handle a 401 by calling the refresh endpoint and retrying.",
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
        mobile = False
        audience = "api"
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
        mobile = False
        audience = "orders"
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
        mobile = True
        audience = "api"

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
    config = _access_config(needs, audience=audience, mobile=mobile)
    if advice.design == "jwt-jwks":
        verifier_revocation = (
            '\n    revocation="replicated",\n    store=store,  # the same store: revocations reach '
            "this service too"
            if instant
            else ""
        )
        config += "\n" + _MICRO.format(verifier_revocation=verifier_revocation)
        commands.append("gatepass keygen ES256 --out signing")
        commands.append("gatepass jwks signing.pub.pem > jwks.json")
    else:
        config += "\n" + _refresh_config(needs, mobile=mobile)
        commands.append("gatepass keygen ES256 --out signing")
    if instant:
        config += _REVOKE_NOTE
    advice.config = config
    advice.commands = commands
    return advice


# --- the command -------------------------------------------------------------------------------


def register(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser = new_command(
        sub,
        common,
        "advise",
        summary="which login-state design, why, and its configuration",
        description="Recommend a login-state design for your architecture and needs, with the "
        "reasoning, the trade-offs you accept and the gatepass configuration.",
        epilog=_EPILOG,
    )
    parser.add_argument("--arch", choices=tuple(ARCHITECTURES), help="your architecture")
    parser.add_argument(
        "--instant-revocation", action="store_true", default=None, help=NEEDS["instant_revocation"]
    )
    parser.add_argument(
        "--remember-me", action="store_true", default=None, help=NEEDS["remember_me"]
    )
    parser.add_argument(
        "--cross-domain", action="store_true", default=None, help=NEEDS["cross_domain"]
    )
    add_json(parser)
    return parser


def _ask(prompt: str, choices: list[str]) -> str:
    while True:
        print(prompt, end="", file=sys.stderr, flush=True)
        answer = sys.stdin.readline()
        if not answer:
            raise CliError("no answer (end of input); pass the options instead, see --help")
        answer = answer.strip().lower()
        if answer in choices:
            return answer
        if answer.isdigit() and 1 <= int(answer) <= len(choices):
            return choices[int(answer) - 1]
        print(f"  please answer one of: {', '.join(choices)}", file=sys.stderr)


def _interactive(args: argparse.Namespace) -> tuple[str, dict[str, bool]]:
    names = list(ARCHITECTURES)
    menu = "\n".join(f"  {i}. {n:<14} {ARCHITECTURES[n]}" for i, n in enumerate(names, 1))
    print(f"Which architecture?\n{menu}", file=sys.stderr)
    arch = _ask("architecture [1-4]: ", names)
    needs = {}
    for need, text in NEEDS.items():
        given = getattr(args, need)
        if given is not None:
            needs[need] = bool(given)
        else:
            needs[need] = _ask(f"Do you need {text}? [y/n]: ", ["y", "n", "yes", "no"])[0] == "y"
    return arch, needs


def run(args: argparse.Namespace, printer: Printer) -> int:
    if args.arch is None:
        if not (sys.stdin is not None and sys.stdin.isatty()):
            raise CliError(
                "--arch is required (monolith, spa, microservices or mobile); "
                "questions are asked only on a terminal"
            )
        arch, needs = _interactive(args)
    else:
        arch = args.arch
        needs = {need: bool(getattr(args, need)) for need in NEEDS}
    advice = recommend(arch, needs)
    if args.json:
        emit_json(advice.as_dict())
        return 0
    wanted = [NEEDS[n] for n, on in needs.items() if on]
    printer.line(printer.paint(f"Recommendation: {advice.title}", "bold", "green"))
    printer.line(
        f"  for {ARCHITECTURES[arch]}" + (f"; needs: {', '.join(wanted)}" if wanted else "")
    )
    printer.line()
    printer.line(printer.paint("Why", "bold"))
    for reason in advice.reasons:
        printer.line(f"  - {reason}")
    printer.line()
    printer.line(printer.paint("Trade-offs you accept", "bold"))
    for tradeoff in advice.tradeoffs:
        printer.line(f"  - {tradeoff}")
    if advice.commands:
        printer.line()
        printer.line(printer.paint("Keys", "bold"))
        for command in advice.commands:
            printer.line(f"  $ {command}")
    printer.line()
    printer.line(printer.paint("Configuration (Python)", "bold"))
    for line in advice.config.rstrip("\n").split("\n"):
        printer.line(f"    {line}" if line else "")
    return 0
