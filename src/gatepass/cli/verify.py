"""``gatepass verify``: check a token's signature and claims with a key you provide."""

from __future__ import annotations

import argparse
import json
import shlex
from typing import Any

from gatepass.cli.args import add_at, add_json, add_key_options, add_token, new_command, secret_from
from gatepass.cli.inputs import (
    MAX_INPUT,
    CliError,
    describe_key,
    hmac_key,
    parse_duration,
    parse_time,
    read_token,
    verification_key,
)
from gatepass.cli.output import Printer, emit_json, iso, now_or, relative, render_object, time_info
from gatepass.errors import (
    ClaimError,
    ExpiredToken,
    InvalidAudience,
    InvalidIssuer,
    InvalidToken,
    MissingClaim,
    NotYetValid,
    TokenTooLarge,
)
from gatepass.tokens import jwt
from gatepass.tokens.keys import Key, KeySet

_EPILOG = """\
examples:
  gatepass verify "$TOKEN" --key signing.pub.pem                # EC/Ed25519: alg from the key
  gatepass verify "$TOKEN" --key rsa.pub.pem --alg RS256        # RSA: say which algorithm
  gatepass verify - --key jwks.json --iss https://id.example --aud api < token.txt
  JWT_SECRET=... gatepass verify "$TOKEN" --secret-env JWT_SECRET --alg HS256
  gatepass verify "$TOKEN" --key pub.pem --at 2026-01-31T12:00:00Z   # as of that moment
  gatepass verify "$TOKEN" --key pub.pem --json | jq .claims

The algorithm always comes from the key (or --alg), never from the token's header. exp is
required unless --no-require-exp; iss, aud and typ are compared exactly when given.
Exit codes: 0 valid, 1 invalid (what failed is printed with its error code), 2 usage or key error.
"""


def register(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser = new_command(
        sub,
        common,
        "verify",
        summary="verify signature and claims",
        description="Verify a JWT's signature with a PEM, JWK or JWKS key (or an HMAC secret) "
        "and validate its claims; print the verified claims or exactly what failed.",
        epilog=_EPILOG,
    )
    add_token(parser)
    add_key_options(parser, signing=False)
    claims = parser.add_argument_group("claims")
    claims.add_argument("--iss", metavar="ISSUER", help="required issuer (exact match)")
    claims.add_argument("--aud", metavar="AUDIENCE", help="required audience (exact match)")
    claims.add_argument("--typ", metavar="TYPE", help="required header typ, e.g. at+jwt")
    claims.add_argument(
        "--leeway", metavar="SECONDS", default="0", help="clock skew allowed for exp/nbf/iat"
    )
    claims.add_argument(
        "--max-age", metavar="DURATION", help="reject tokens issued longer ago (e.g. 1h)"
    )
    claims.add_argument(
        "--no-require-exp",
        action="store_true",
        help="accept a token without exp (not recommended)",
    )
    add_at(claims, "verify as of TIME")
    parser.add_argument(
        "--max-size",
        metavar="BYTES",
        type=int,
        default=8192,
        help="reject larger tokens before decoding (default 8192)",
    )
    add_json(parser)
    return parser


def load_key(args: argparse.Namespace, token: str) -> Key | KeySet:
    secret = secret_from(args)
    if secret is not None:
        return hmac_key(secret, args.alg)
    if not args.key:
        raise CliError(
            "no key: pass --key FILE (PEM, JWK or JWKS) or --secret-env VAR / --secret-file FILE "
            "for an HMAC secret"
        )
    return verification_key(args.key, args.alg, token_alg=header_alg(token))


def header_alg(token: str) -> str | None:
    """What the token's header claims, for hints only: the key decides, never the token."""
    try:
        alg = jwt.inspect(token, max_size=MAX_INPUT).header.get("alg")
    except InvalidToken:
        return None
    return alg if isinstance(alg, str) else None


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)[:80]


def fix_for(token: str, exc: InvalidToken, args: argparse.Namespace) -> str | None:
    """The option that resolves the failure, when it is the caller's setting and not the token."""
    if isinstance(exc, TokenTooLarge):
        return f"if the token is legitimate, add --max-size {len(token)}"
    try:
        claims = jwt.inspect(token, max_size=MAX_INPUT).claims
    except InvalidToken:
        return None
    if isinstance(exc, InvalidAudience):
        aud = claims.get("aud")
        first = aud[0] if isinstance(aud, list) and aud else aud
        if args.aud is None and isinstance(first, str):
            return f"the token is for {_shown(aud)}; if that is you, add --aud {shlex.quote(first)}"
        return f"the token's aud is {_shown(aud)}; you asked for {_shown(args.aud)}"
    if isinstance(exc, InvalidIssuer):
        return f"the token's iss is {_shown(claims.get('iss'))}; you asked for {_shown(args.iss)}"
    if isinstance(exc, MissingClaim) and exc.claim == "exp":
        return "a token without exp never expires; add --no-require-exp to accept it anyway"
    return None


def _failure_detail(token: str, exc: InvalidToken, now: float) -> dict[str, Any]:
    detail: dict[str, Any] = {"code": exc.code, "message": str(exc), "type": type(exc).__name__}
    if isinstance(exc, ClaimError):
        detail["claim"] = exc.claim
    if isinstance(exc, ExpiredToken | NotYetValid):
        name = "exp" if isinstance(exc, ExpiredToken) else "nbf"
        try:
            value = jwt.inspect(token, max_size=MAX_INPUT).claims.get(name)
        except InvalidToken:
            value = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            detail[name] = {
                "value": value,
                "iso": iso(value),
                "relative": relative(name, value, now),
            }
    return detail


def run(args: argparse.Namespace, printer: Printer) -> int:
    token = read_token(args.token)
    key = load_key(args, token)
    at = parse_time(args.at) if args.at else None
    now = now_or(at)
    try:
        leeway = int(args.leeway)
    except ValueError:
        raise CliError(f"--leeway {args.leeway!r}: give whole seconds, e.g. --leeway 30") from None
    if leeway < 0:
        raise CliError("--leeway must not be negative")
    max_age = parse_duration(args.max_age, "--max-age") if args.max_age else None
    if args.max_size <= 0:
        raise CliError("--max-size must be a positive number of bytes")
    try:
        claims = jwt.verify(
            token,
            key,
            issuer=args.iss,
            audience=args.aud,
            leeway=leeway,
            max_age=max_age,
            typ=args.typ,
            require=() if args.no_require_exp else ("exp",),
            now=at,
            max_size=args.max_size,
        )
    except InvalidToken as exc:
        detail = _failure_detail(token, exc, now)
        fix = fix_for(token, exc, args)
        if fix:
            detail["fix"] = fix
        if args.json:
            emit_json({"valid": False, "error": detail})
        else:
            line = f"INVALID: {detail['code']}: {detail['message']}"
            printer.note(printer.paint(line, "bold", "red"))
            for name in ("exp", "nbf"):
                if name in detail:
                    t = detail[name]
                    printer.note(f"  {name}: {t['value']}  {t['iso']} ({t['relative']})")
            if fix:
                printer.note(f"  fix: {fix}")
        return 1
    header = jwt.inspect(token, max_size=MAX_INPUT).header
    times = time_info(claims, now)
    if args.json:
        emit_json(
            {
                "valid": True,
                "key": dict(describe_key(key)),
                "header": dict(header),
                "claims": dict(claims),
                "times": times,
            }
        )
        return 0
    used = f"alg {header.get('alg')}"
    if header.get("kid") is not None:
        used += f", kid {header.get('kid')}"
    printer.line(printer.paint(f"VALID: signature and claims verified ({used})", "bold", "green"))
    printer.line()
    render_object(printer, "Header", dict(header))
    render_object(printer, "Claims", dict(claims), times)
    return 0
