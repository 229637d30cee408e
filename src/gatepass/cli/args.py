"""Option groups shared by several commands, so each is spelled and explained once."""

from __future__ import annotations

import argparse
from typing import Any

from gatepass.cli.inputs import CliError, Secret, read_secret


def new_command(
    sub: Any,
    common: argparse.ArgumentParser,
    name: str,
    *,
    summary: str,
    description: str,
    epilog: str,
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        parents=[common],
        help=summary,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def add_token(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "token",
        metavar="TOKEN",
        help="the compact JWT/JWS, or - to read it from stdin (whitespace and 'Bearer ' removed)",
    )


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document (stable keys) for scripts"
    )


def add_at(parser: argparse._ActionsContainer, what: str) -> None:
    parser.add_argument(
        "--at",
        metavar="TIME",
        help=f"{what} (ISO 8601 such as 2026-01-31T12:00:00Z, or unix seconds); default: now",
    )


def add_key_options(parser: argparse.ArgumentParser, *, signing: bool) -> None:
    verb = "sign with" if signing else "verify with"
    group = parser.add_argument_group("key (one of)")
    group.add_argument(
        "--key",
        metavar="FILE",
        help=f"key to {verb}: PEM, JWK or JWKS (detected from the content)",
    )
    group.add_argument(
        "--secret-env",
        metavar="VAR",
        help="HMAC secret from the environment variable VAR (its UTF-8 bytes)",
    )
    group.add_argument(
        "--secret-file",
        metavar="FILE",
        help="HMAC secret: the raw bytes of FILE (one trailing newline removed)",
    )
    group.add_argument(
        "--secret",
        metavar="VALUE",
        help="HMAC secret as an argument: refused unless --insecure-secret-arg is also given",
    )
    group.add_argument(
        "--insecure-secret-arg",
        action="store_true",
        help="allow --secret VALUE on the command line (visible in history and `ps`)",
    )
    parser.add_argument(
        "--alg",
        metavar="ALG",
        help="algorithm the key is for: needed for RSA keys (RS256/PS256/...) and JWKs without "
        "'alg'; HMAC secrets default to HS256",
    )


def secret_from(args: argparse.Namespace) -> Secret | None:
    secret = read_secret(
        env=args.secret_env,
        file=args.secret_file,
        value=args.secret,
        insecure_arg=args.insecure_secret_arg,
    )
    if secret is not None and args.key:
        raise CliError("give either --key or an HMAC secret (--secret-env/--secret-file), not both")
    return secret
