"""The ``gatepass`` command: decode, verify, encode, keygen, jwks, audit, advise, tools, compare.

Exit codes (the same for every command):

* ``0``: the token is valid, or the command did what it was asked;
* ``1``: the token is invalid (malformed, bad signature, expired, ...), or ``audit`` found a
  finding at or above ``--fail-on`` (default: high);
* ``2``: a usage, input or key problem (missing option, unreadable file, unusable key), or an
  unexpected internal error. Never a Python traceback (set ``GATEPASS_DEBUG=1`` to see one).

Everything runs locally: no command opens a network connection except ``tools``, which serves the
offline page on loopback, and ``compare``, which talks to the Redis and PostgreSQL it measures.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from gatepass.cli import advise, audit, compare, decode, encode, jwks, keygen, serve, verify
from gatepass.cli.inputs import CliError
from gatepass.cli.output import Printer, colour_enabled, emit_json
from gatepass.errors import GatepassError, InvalidToken

Runner = Callable[[argparse.Namespace, Printer], int]

_DESCRIPTION = """\
gatepass: inspect, verify, sign and audit JWTs, make keys, and choose a login-state design.
Tokens and keys never leave this machine.
"""

_EPILOG = """\
examples:
  gatepass decode eyJhbGciOi...            show header and claims (NOT verified)
  gatepass verify - --key pub.pem < token  check signature and claims
  gatepass encode sub=42 --key ec.key.pem --expires-in 15m
  gatepass keygen ES256 --out signing      signing.key.pem, signing.pub.pem, *.jwk.json
  gatepass jwks signing.pub.pem            JWKS document of public keys
  gatepass audit TOKEN                     security review (weak secrets, alg none, ...)
  gatepass advise --arch spa               which design, why, and the configuration
  gatepass tools                           the same tools as an offline browser page
  gatepass compare --quick                 the JWT vs session table, measured here

exit codes: 0 ok/valid, 1 invalid token or audit findings, 2 usage or key error.
Run `gatepass COMMAND --help` for each command's options and examples.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, except that with ``--json`` a usage error is a JSON document too."""

    json_errors = False

    def error(self, message: str) -> NoReturn:
        if self.json_errors:
            emit_json(_error_document("ERR_USAGE", f"{self.prog}: {message}", "UsageError"))
            self.exit(2)
        super().error(message)


def _error_document(code: str, message: str, kind: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "type": kind}}


def build_parser(*, json_errors: bool = False) -> argparse.ArgumentParser:
    parser_class = type("GatepassParser", (_Parser,), {"json_errors": json_errors})
    common: argparse.ArgumentParser = parser_class(add_help=False)
    common.add_argument(
        "--color",
        "--colour",
        dest="color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour output: auto (default: a terminal and NO_COLOR unset), always or never",
    )
    parser: argparse.ArgumentParser = parser_class(
        prog="gatepass",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"gatepass {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in (decode, verify, encode, keygen, jwks, audit, advise, serve, compare):
        command = module.register(sub, common)
        command.set_defaults(run=module.run)
    return parser


def _version() -> str:
    from gatepass import __version__  # noqa: PLC0415

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    # With --json every outcome is one JSON document on stdout, usage errors included: a
    # script that asked for JSON never has to parse a sentence.
    wants_json = "--json" in words
    parser = build_parser(json_errors=wants_json)
    args = parser.parse_args(words)
    printer = Printer(colour_enabled(getattr(args, "color", "auto")))
    run: Runner = args.run
    as_json = wants_json and bool(getattr(args, "json", False))

    def fail(exc: BaseException, code: str, kind: str, human: str, exit_code: int) -> int:
        if as_json:
            emit_json(_error_document(code, str(exc), kind))
        else:
            printer.note(f"gatepass {args.command}: {human}")
        return exit_code

    try:
        return run(args, printer)
    except CliError as exc:
        return fail(exc, "ERR_USAGE", "UsageError", f"error: {exc}", exc.exit_code)
    except InvalidToken as exc:
        kind = type(exc).__name__
        return fail(exc, exc.code, kind, f"invalid token: {exc} [{exc.code}]", 1)
    except GatepassError as exc:
        return fail(exc, exc.code, type(exc).__name__, f"error: {exc} [{exc.code}]", 2)
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            _silence_stdout()
            return 0
        where = f"{exc.filename}: " if exc.filename else ""
        unreadable = OSError(f"{where}{exc.strerror or exc}; check the path")
        return fail(unreadable, "ERR_FILE", "OSError", f"error: {unreadable}", 2)
    except KeyboardInterrupt:
        printer.note("interrupted")
        return 130
    except Exception as exc:
        if os.environ.get("GATEPASS_DEBUG"):
            raise
        name = type(exc).__name__
        internal = RuntimeError(
            f"internal error ({name}: {exc}); please report it "
            "(GATEPASS_DEBUG=1 shows the traceback)"
        )
        return fail(internal, "ERR_INTERNAL", name, str(internal), 2)


def _silence_stdout() -> None:
    """After a closed pipe (``gatepass decode ... | head``), exit without a second error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    raise SystemExit(main())
