"""``gatepass compare``: the article's comparison table, measured on this machine."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gatepass.cli.args import add_json, new_command
from gatepass.cli.inputs import CliError
from gatepass.cli.output import Printer, emit_json

if TYPE_CHECKING:  # the measuring code is imported when the command runs, not by --help
    from gatepass.compare.settings import Settings

_EPILOG = """\
examples:
  gatepass compare                       # every design; Redis/PostgreSQL if they answer locally
  gatepass compare --quick               # fewer, shorter rounds: a rough table in seconds
  gatepass compare --redis redis://cache:6379/3 --postgres off
  gatepass compare --html table.html     # also a self-contained page with charts
  gatepass compare --json > table.json
  gatepass compare --walkthrough         # the story of each design first, then the table

Sessions per store (memory, SQLite; Redis and PostgreSQL at --redis/--postgres, or at
127.0.0.1:6379 / postgres@127.0.0.1:5432 when something answers there), stateless JWTs per
algorithm, JWTs with a denylist and with replicated revocation, and the hybrid. Columns: where
the state lives, bytes per request, verification cost (median, and its ratio to a SQLite session
lookup), revocation delay measured against a second process, what a stolen credential is good
for, XSS and CSRF exposure, infrastructure, cross-domain use.
Redis and PostgreSQL get a private key prefix / schema, removed at the end.
Exit codes: 0 measured (rows that could not be measured say why), 2 usage error.
"""

_MAX_ROUNDS = 1000
_MAX_TRIALS = 100


def register(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser = new_command(
        sub,
        common,
        "compare",
        summary="measure the JWT vs session cookie table on this machine",
        description="Measure every login-state design on this machine and print the article's "
        "comparison table: sizes, verification costs, revocation delays and exposures.",
        epilog=_EPILOG,
    )
    parser.add_argument(
        "--quick", action="store_true", help="3 short rounds and 2 revocation trials per row"
    )
    parser.add_argument("--rounds", type=int, metavar="N", help="timed rounds per cost (15)")
    parser.add_argument("--trials", type=int, metavar="N", help="revocation trials per row (5)")
    parser.add_argument(
        "--redis", metavar="URL", help="Redis to measure, or 'off' (default: local if it answers)"
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="PostgreSQL to measure, or 'off' (default: local if it answers)",
    )
    parser.add_argument("--html", metavar="FILE", help="also write a self-contained page")
    parser.add_argument(
        "--walkthrough", action="store_true", help="tell each design's story first (on SQLite)"
    )
    parser.add_argument(
        "--db", metavar="PATH", help="the walkthrough's SQLite file (default: a temporary one)"
    )
    add_json(parser)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    from dataclasses import replace  # noqa: PLC0415

    from gatepass.compare.settings import Settings  # noqa: PLC0415

    settings = Settings.quick() if args.quick else Settings()
    if args.rounds is not None:
        if not 1 <= args.rounds <= _MAX_ROUNDS:
            raise CliError(f"--rounds {args.rounds}: use 1 to {_MAX_ROUNDS}")
        settings = replace(settings, rounds=args.rounds)
    if args.trials is not None:
        if not 1 <= args.trials <= _MAX_TRIALS:
            raise CliError(f"--trials {args.trials}: use 1 to {_MAX_TRIALS}")
        settings = replace(settings, trials=args.trials)
    return settings


def _check_html_target(path: str | None) -> None:
    """Refuse an unwritable --html path before minutes of measuring, not after."""
    if path is None:
        return
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise CliError(f"--html {path}: the folder {folder} does not exist")
    if Path(path).is_dir():
        raise CliError(f"--html {path}: that is a folder; name a file")
    if not os.access(folder, os.W_OK):
        raise CliError(f"--html {path}: cannot write in {folder}")


def _walkthrough(db: str | None, printer: Printer) -> None:
    from gatepass.compare.walkthrough import Walkthrough  # noqa: PLC0415

    if db is not None:
        Walkthrough(Path(db), printer.line).run()
        return
    with tempfile.TemporaryDirectory(prefix="gatepass-walkthrough-") as tmp:
        Walkthrough(Path(tmp) / "walkthrough.db", printer.line).run()


def run(args: argparse.Namespace, printer: Printer) -> int:
    settings = _settings(args)
    _check_html_target(args.html)
    from gatepass.compare import report_html, report_text  # noqa: PLC0415
    from gatepass.compare.run import compare  # noqa: PLC0415

    if args.walkthrough:
        _walkthrough(args.db, printer)
    progress = printer.note if sys.stderr.isatty() else None
    report = compare(settings, redis=args.redis, postgres=args.postgres, progress=progress)
    for option, value, name in (
        ("--redis", args.redis, "Redis"),
        ("--postgres", args.postgres, "PostgreSQL"),
    ):
        skipped = next((r.skipped for r in report.rows if r.variant == name), None)
        if value not in (None, "off") and skipped is not None:
            printer.warn(f"{option} was given but not measured: {skipped}")
    if args.json:
        emit_json(report.to_json(), printer.out)
    else:
        printer.out.write(report_text.render(report))
    if args.html:
        Path(args.html).write_text(report_html.render(report), encoding="utf-8")
        printer.note(f"wrote {args.html}")
    return 0
