"""``gatepass tools``: serve the offline browser page on loopback."""

from __future__ import annotations

import argparse
from typing import Any

from gatepass.cli.args import new_command
from gatepass.cli.inputs import CliError
from gatepass.cli.output import Printer

_EPILOG = """\
examples:
  gatepass tools                    # a free port, opens your browser
  gatepass tools --port 8765 --no-browser

The page (decode, verify, encode) runs entirely in the browser through WebCrypto; its
Content-Security-Policy forbids any outbound request, and the server listens on 127.0.0.1
only. Stop it with Ctrl-C.
Exit codes: 0 stopped, 2 usage error (e.g. the port is taken).
"""


def register(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser = new_command(
        sub,
        common,
        "tools",
        summary="serve the offline browser page on loopback",
        description="Serve the decode/verify/encode page on http://127.0.0.1:PORT.",
        epilog=_EPILOG,
    )
    parser.add_argument(
        "--port", type=int, default=0, metavar="N", help="port (default 0: any free port)"
    )
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    return parser


def run(args: argparse.Namespace, printer: Printer) -> int:
    if not 0 <= args.port <= 65535:
        raise CliError(f"--port {args.port}: use 0 (any free port) or 1-65535")
    try:
        from gatepass.tools.server import serve  # noqa: PLC0415 - only this command needs it
    except ImportError as exc:
        raise CliError(f"the browser page is not available in this install ({exc})") from None
    try:
        serve(port=args.port, open_browser=not args.no_browser)
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise CliError(
            f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}; "
            "choose another --port or 0"
        ) from None
    return 0
