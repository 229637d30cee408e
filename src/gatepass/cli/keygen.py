"""``gatepass keygen``: make a signing key pair (or an HMAC secret) as PEM and JWK files.

Private files are created with mode 0600 from the first byte (``os.open`` with ``O_CREAT |
O_EXCL``), never written world-readable and tightened later; existing files are kept unless
``--force``, which replaces them atomically through a fresh 0600 temporary file.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gatepass.cli.args import add_json, new_command
from gatepass.cli.inputs import ALGORITHMS, HMAC_ALGS, HMAC_HASH_BYTES, CliError
from gatepass.cli.output import Printer, emit_json
from gatepass.tokens.keys import Key

PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644

_EPILOG = """\
examples:
  gatepass keygen ES256 --out signing     # signing.key.pem signing.pub.pem
                                          # signing.jwk.json signing.pub.jwk.json
  gatepass keygen EdDSA --out ed --kid 2026-01
  gatepass keygen RS256 --size 3072 --out rsa
  gatepass keygen HS256 --out api         # api.secret and api.jwk.json (both private)
  gatepass keygen ES256 --json            # to stdout (warns: the private key is shown)

Private files (*.key.pem, *.jwk.json, *.secret) get mode 0600; public ones 0644. Existing files
are never overwritten unless --force. Publish public keys with `gatepass jwks PREFIX.pub.pem`
(an RSA key also needs --alg, which the command prints after writing the files).
Exit codes: 0 written, 2 usage error or a file already exists.
"""


@dataclass
class Output:
    path: Path
    data: bytes
    private: bool
    label: str


def register(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser = new_command(
        sub,
        common,
        "keygen",
        summary="make a key pair or HMAC secret",
        description="Generate a signing key for ALG: private and public key as PEM and JWK "
        "(an HMAC algorithm gives a random secret of the hash's length).",
        epilog=_EPILOG,
    )
    parser.add_argument("alg", metavar="ALG", choices=ALGORITHMS, help=", ".join(ALGORITHMS))
    parser.add_argument("--out", metavar="PREFIX", help="write PREFIX.key.pem, PREFIX.pub.pem, ...")
    parser.add_argument("--force", action="store_true", help="replace existing files")
    parser.add_argument("--kid", metavar="KID", help="key id (default: RFC 7638 thumbprint)")
    parser.add_argument("--size", metavar="BITS", type=int, help="RSA modulus size (default 2048)")
    add_json(parser)
    return parser


def _json_bytes(doc: Any) -> bytes:
    return (json.dumps(doc, indent=2) + "\n").encode("utf-8")


def _generate(args: argparse.Namespace) -> tuple[Key, str | None]:
    """The key, and for HMAC the printable secret (its UTF-8 bytes are the key)."""
    if args.alg in HMAC_ALGS:
        if args.size is not None:
            raise CliError("--size is for RSA keys; an HMAC secret has the hash's length")
        # token_urlsafe(n) carries n random bytes in about 1.33 n printable characters, so the
        # secret both has the hash's entropy and is at least the hash's length in bytes.
        secret = secrets.token_urlsafe(HMAC_HASH_BYTES[args.alg])
        return Key.from_secret(secret.encode("ascii"), args.alg, kid=args.kid), secret
    is_rsa = args.alg.startswith(("RS", "PS"))
    if args.size is not None and not is_rsa:
        raise CliError(f"--size is for RSA keys; {args.alg} keys have a fixed size")
    if is_rsa and args.size is not None:
        return Key.generate(args.alg, size=args.size, kid=args.kid), None
    return Key.generate(args.alg, kid=args.kid), None


def publish_command(key: Key, public_pem: Path) -> str:
    """The `gatepass jwks` command for this key: an RSA PEM does not say its algorithm."""
    command = f"gatepass jwks {shlex.quote(str(public_pem))}"
    return command + (f" --alg {key.alg}" if key.kty == "RSA" else "")


def _outputs(prefix: str, key: Key, secret: str | None) -> list[Output]:
    base = Path(prefix)
    jwk = _json_bytes(key.to_jwk(private=True))
    if secret is not None:
        return [
            Output(base.with_name(base.name + ".secret"), secret.encode("ascii"), True, "secret"),
            Output(base.with_name(base.name + ".jwk.json"), jwk, True, "private JWK"),
        ]
    return [
        Output(
            base.with_name(base.name + ".key.pem"), key.to_pem(private=True), True, "private PEM"
        ),
        Output(
            base.with_name(base.name + ".pub.pem"), key.to_pem(private=False), False, "public PEM"
        ),
        Output(base.with_name(base.name + ".jwk.json"), jwk, True, "private JWK"),
        Output(
            base.with_name(base.name + ".pub.jwk.json"),
            _json_bytes(key.to_jwk(private=False)),
            False,
            "public JWK",
        ),
    ]


def _write_exclusive(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def write_files(outputs: list[Output], force: bool) -> None:
    parent = outputs[0].path.parent
    if not parent.is_dir():
        raise CliError(f"--out: the directory {str(parent)!r} does not exist; create it first")
    if not force:
        existing = [str(o.path) for o in outputs if os.path.lexists(o.path)]
        if existing:
            raise CliError(
                f"refusing to overwrite {', '.join(existing)}; choose another --out PREFIX "
                "or add --force"
            )
    written: list[Path] = []
    try:
        for output in outputs:
            mode = PRIVATE_MODE if output.private else PUBLIC_MODE
            if force:
                temp = output.path.with_name(f".{output.path.name}.{secrets.token_hex(6)}.tmp")
                _write_exclusive(temp, output.data, mode)
                os.replace(temp, output.path)
            else:
                _write_exclusive(output.path, output.data, mode)
            written.append(output.path)
    except FileExistsError as exc:
        for path in written:
            path.unlink(missing_ok=True)
        raise CliError(f"{exc.filename} appeared while writing; nothing was kept") from None


def run(args: argparse.Namespace, printer: Printer) -> int:
    key, secret = _generate(args)
    if args.out:
        outputs = _outputs(args.out, key, secret)
        write_files(outputs, args.force)
        if args.json:
            emit_json(
                {
                    "alg": key.alg,
                    "kid": key.kid,
                    "files": [
                        {
                            "path": str(o.path),
                            "kind": o.label,
                            "private": o.private,
                            "mode": oct(PRIVATE_MODE if o.private else PUBLIC_MODE),
                        }
                        for o in outputs
                    ],
                }
            )
            return 0
        printer.line(f"{key.alg} key, kid {key.kid}")
        for o in outputs:
            mode = "0600, keep secret" if o.private else "0644"
            printer.line(f"  wrote {o.path} ({o.label}, {mode})")
        if secret is None:
            printer.line(f"publish the public key: `{publish_command(key, outputs[1].path)}`")
        return 0

    printer.warn(
        "printing a private key to stdout: terminals, scrollback and logs keep it. "
        "Use --out PREFIX to write files with mode 0600."
    )
    if args.json:
        doc: dict[str, Any] = {
            "alg": key.alg,
            "kid": key.kid,
            "private_jwk": key.to_jwk(private=True),
        }
        if secret is not None:
            doc["secret"] = secret
        else:
            doc["public_jwk"] = key.to_jwk(private=False)
            doc["private_pem"] = key.to_pem(private=True).decode("ascii")
            doc["public_pem"] = key.to_pem(private=False).decode("ascii")
        emit_json(doc)
        return 0
    printer.line(f"# {key.alg} key, kid {key.kid}")
    if secret is not None:
        printer.line("# secret (its UTF-8 bytes are the key; e.g. export JWT_SECRET=...)")
        printer.line(secret)
        printer.line("# private JWK")
        printer.line(json.dumps(key.to_jwk(private=True), indent=2))
        return 0
    printer.line(key.to_pem(private=True).decode("ascii").rstrip("\n"))
    printer.line(key.to_pem(private=False).decode("ascii").rstrip("\n"))
    printer.line("# private JWK")
    printer.line(json.dumps(key.to_jwk(private=True), indent=2))
    printer.line("# public JWK")
    printer.line(json.dumps(key.to_jwk(private=False), indent=2))
    return 0
