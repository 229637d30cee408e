"""``gatepass encode``: sign a test token with your own key."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gatepass.cli.args import add_at, add_json, add_key_options, new_command, secret_from
from gatepass.cli.inputs import (
    CliError,
    hmac_key,
    keys_from_file,
    parse_duration,
    parse_pairs,
    parse_time,
    read_json_object,
)
from gatepass.cli.output import Printer, emit_json
from gatepass.errors import InvalidKey
from gatepass.tokens import jwt
from gatepass.tokens.keys import Key

DEFAULT_EXPIRES_IN = "15m"

_EPILOG = """\
examples:
  gatepass encode sub=42 role=admin --key signing.key.pem
  gatepass encode sub=42 'scope=["read","write"]' --expires-in 1h --key ec.jwk.json
  gatepass encode --claims claims.json --key rsa.key.pem --alg PS256 --kid 2026-01
  gatepass encode sub=42 --secret-file hs256.secret --alg HS256 --typ at+jwt
  gatepass encode sub=42 --key signing.key.pem --at 2020-01-01T00:00:00Z  # an expired token

Values are parsed as JSON when they parse (numbers, true, arrays, objects), else kept as text;
iss, sub and jti always stay strings. --claims FILE is read first, key=value pairs override it.
exp defaults to 15 minutes after iat (--expires-in, or --no-exp for none).
HMAC secrets shorter than the hash (32 bytes for HS256) are refused: make one with
`gatepass keygen HS256`.
Exit codes: 0 token printed, 2 usage or key error.
"""


def register(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser = new_command(
        sub,
        common,
        "encode",
        summary="sign a test token",
        description="Create and sign a JWT with your own private key or HMAC secret.",
        epilog=_EPILOG,
    )
    parser.add_argument("pairs", nargs="*", metavar="KEY=VALUE", help="claims")
    parser.add_argument("--claims", metavar="FILE", help="claims from a JSON object file (- stdin)")
    parser.add_argument(
        "--expires-in",
        metavar="DURATION",
        help=f"exp = iat + DURATION (s, m, h, d units; default {DEFAULT_EXPIRES_IN})",
    )
    parser.add_argument("--no-exp", action="store_true", help="no exp claim (never expires)")
    parser.add_argument("--kid", metavar="KID", help="key id (selects the key in a JWKS file)")
    parser.add_argument("--typ", metavar="TYPE", default="JWT", help="header typ (default JWT)")
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra header member (repeatable)",
    )
    add_at(parser, "issue the token as if it were TIME (sets iat)")
    add_key_options(parser, signing=True)
    add_json(parser)
    return parser


def _with_kid(key: Key, kid: str) -> Key:
    jwk = dict(key.to_jwk(private=True))
    jwk["kid"] = kid
    return Key.from_jwk(jwk, key.alg)


def signing_key(args: argparse.Namespace) -> Key:
    secret = secret_from(args)
    if secret is not None:
        return hmac_key(secret, args.alg, kid=args.kid)
    if not args.key:
        raise CliError(
            "no key: pass --key FILE (a private PEM, JWK or JWKS) or --secret-env VAR / "
            "--secret-file FILE for HMAC; make one with `gatepass keygen ES256 --out signing`"
        )
    keys, is_set = keys_from_file(args.key, args.alg)
    if is_set:
        private = [k for k in keys if k.is_private]
        if args.kid is not None:
            private = [k for k in private if k.kid == args.kid]
        if len(private) != 1:
            which = f"with kid {args.kid!r}" if args.kid else "(choose one with --kid)"
            raise CliError(
                f"{args.key}: {len(private)} private keys {which}; encode needs exactly one"
            )
        key = private[0]
    else:
        key = keys[0]
        if args.kid is not None and key.kid != args.kid:
            key = _with_kid(key, args.kid)
    if not key.is_private:
        twin = _private_twin(args.key)
        raise CliError(f"{args.key} holds a public key; signing needs the private key: {twin}")
    return key


def _private_twin(path: str) -> str:
    """Where `gatepass keygen` put the private half of a public key file, if it is there."""
    for public, private in ((".pub.pem", ".key.pem"), (".pub.jwk.json", ".jwk.json")):
        if path.endswith(public):
            twin = path[: -len(public)] + private
            if Path(twin).is_file():
                return f"use --key {twin}"
    return "pass --key with the private file (PREFIX.key.pem or PREFIX.jwk.json from keygen)"


def build_claims(args: argparse.Namespace) -> dict[str, Any]:
    claims: dict[str, Any] = {}
    if args.claims:
        claims.update(read_json_object(args.claims, "--claims"))
    claims.update(parse_pairs(args.pairs, "claim"))
    return claims


def build_headers(args: argparse.Namespace) -> dict[str, Any]:
    headers = parse_pairs(args.header, "--header")
    for name, option in (("alg", "--alg"), ("kid", "--kid"), ("typ", "--typ")):
        if name in headers:
            raise CliError(f"--header {name}=...: set {name} with {option} instead")
    return headers


def run(args: argparse.Namespace, printer: Printer) -> int:
    claims = build_claims(args)
    headers = build_headers(args)
    if args.no_exp and args.expires_in:
        raise CliError("--no-exp and --expires-in contradict each other; give one")
    if "exp" in claims and args.expires_in:
        raise CliError("exp is given as a claim and with --expires-in; give one")
    expires_in: int | None = None
    if not args.no_exp and "exp" not in claims:
        expires_in = parse_duration(args.expires_in or DEFAULT_EXPIRES_IN)
        if expires_in <= 0:
            raise CliError("--expires-in must be positive; use --no-exp for a token without exp")
    if args.no_exp:
        claims.pop("exp", None)
    now = int(parse_time(args.at)) if args.at else None
    key = signing_key(args)
    try:
        token = jwt.encode(
            claims,
            key,
            expires_in=expires_in,
            headers=headers or None,
            typ=args.typ,
            now=now,
        )
    except InvalidKey as exc:
        raise CliError(f"cannot sign with this key: {exc} [{exc.code}]") from None
    if args.json:
        view = jwt.inspect(token, max_size=len(token))
        emit_json({"token": token, "header": dict(view.header), "claims": dict(view.claims)})
    else:
        printer.line(token)
    return 0
