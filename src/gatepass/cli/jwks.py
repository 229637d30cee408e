"""``gatepass jwks``: a public JWKS document from key files (never a private member)."""

from __future__ import annotations

import argparse
from typing import Any

from gatepass.cli.args import new_command
from gatepass.cli.inputs import CliError, keys_from_file
from gatepass.cli.output import Printer, emit_json
from gatepass.errors import InvalidKey
from gatepass.tokens.keys import Key, KeySet

# JWK members that carry private key material (RFC 7518 6.2.2, 6.3.2, 6.4; RFC 8037).
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})

_EPILOG = """\
examples:
  gatepass jwks signing.pub.pem > jwks.json
  gatepass jwks current.key.pem next.pub.jwk.json        # private input is fine: output is public
  gatepass jwks rsa.pub.pem --alg RS256 ec.pub.pem

Inputs may be PEM, JWK or JWKS files, public or private; only public members are printed.
HMAC secrets are refused: a shared secret must never be published.
Exit codes: 0 printed, 2 usage or key error.
"""


def register(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser = new_command(
        sub,
        common,
        "jwks",
        summary="JWKS document of public keys",
        description='Print a JWKS document ({"keys": [...]}) holding the public keys of FILES.',
        epilog=_EPILOG,
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="PEM, JWK or JWKS key files")
    parser.add_argument(
        "--alg", metavar="ALG", help="algorithm for keys that do not determine it (RSA, JWKs)"
    )
    return parser


def public_jwks(paths: list[str], alg: str | None) -> dict[str, Any]:
    public: list[Key] = []
    origin: dict[str, str] = {}
    for path in paths:
        keys, _ = keys_from_file(path, alg, fill_only=True)
        for key in keys:
            if key.kty == "oct":
                raise CliError(
                    f"{path}: an HMAC secret; it must never be published in a JWKS. Use an "
                    "asymmetric key (`gatepass keygen ES256 --out signing`) for keys others verify"
                )
            if key.kid in origin:
                # A verifier would then find two keys for one token and refuse it
                # (ERR_JWKS_MULTIPLE_MATCHING_KEYS): refuse to write such a set at all.
                same = "the same key" if key.thumbprint() in thumbprints(public) else "two keys"
                raise CliError(
                    f"{path}: kid {key.kid[:48]!r} is already in {origin[key.kid]} ({same} "
                    "twice); a set needs one key per kid: drop one file, or give a key "
                    "another kid (gatepass keygen --kid)"
                )
            origin[key.kid] = path
            public.append(key.public() if key.is_private else key)
    try:
        document = KeySet(public).to_jwks()
    except InvalidKey as exc:
        raise CliError(f"these keys cannot form one key set: {exc} [{exc.code}]") from None
    for jwk in document["keys"]:
        leaked = PRIVATE_MEMBERS & set(jwk)
        if leaked:  # defence in depth: never print private material, whatever happened above
            raise CliError(f"internal check failed: private members {sorted(leaked)} in output")
    return dict(document)


def thumbprints(keys: list[Key]) -> set[str]:
    return {key.thumbprint() for key in keys}


def run(args: argparse.Namespace, printer: Printer) -> int:
    emit_json(public_jwks(args.files, args.alg), printer.out)
    return 0
