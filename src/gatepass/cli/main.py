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

from gatepass.cli import advise, audit, compare, decode, encode, jwks, keygen, serve, verify
from gatepass.cli.inputs import CliError
from gatepass.cli.output import Printer, colour_enabled
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


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--color",
        "--colour",
        dest="color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour output: auto (default: a terminal and NO_COLOR unset), always or never",
    )
    parser = argparse.ArgumentParser(
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
    parser = build_parser()
    args = parser.parse_args(argv)
    printer = Printer(colour_enabled(getattr(args, "color", "auto")))
    run: Runner = args.run
    try:
        return run(args, printer)
    except CliError as exc:
        printer.note(f"gatepass {args.command}: error: {exc}")
        return exc.exit_code
    except InvalidToken as exc:
        printer.note(f"gatepass {args.command}: invalid token: {exc} [{exc.code}]")
        return 1
    except GatepassError as exc:
        printer.note(f"gatepass {args.command}: error: {exc} [{exc.code}]")
        return 2
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            _silence_stdout()
            return 0
        where = f": {exc.filename}" if exc.filename else ""
        reason = exc.strerror or str(exc)
        printer.note(f"gatepass {args.command}: error{where}: {reason}; check the path")
        return 2
    except KeyboardInterrupt:
        printer.note("interrupted")
        return 130
    except Exception as exc:
        if os.environ.get("GATEPASS_DEBUG"):
            raise
        name = type(exc).__name__
        printer.note(
            f"gatepass {args.command}: internal error ({name}: {exc}); please report it "
            "(GATEPASS_DEBUG=1 shows the traceback)"
        )
        return 2


def _silence_stdout() -> None:
    """After a closed pipe (``gatepass decode ... | head``), exit without a second error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    raise SystemExit(main())
