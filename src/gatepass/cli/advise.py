"""``gatepass advise``: the command around :func:`gatepass.cli.advice.recommend`.

Given the architecture and the needs (from options, or asked on a terminal), print one design
(session cookies, the hybrid, JWT with JWKS, or JWT + refresh for mobile), why, the trade-offs
accepted, and the app protected by gatepass's web layer in that design (FastAPI by default,
``--framework flask``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gatepass.cli.advice import ARCHITECTURES, NEEDS, recommend
from gatepass.cli.advice_config import FRAMEWORKS
from gatepass.cli.args import add_json, new_command
from gatepass.cli.inputs import CliError
from gatepass.cli.output import Printer, emit_json

_EPILOG = """\
examples:
  gatepass advise --arch monolith
  gatepass advise --arch spa --instant-revocation
  gatepass advise --arch microservices --cross-domain --json
  gatepass advise --arch mobile --remember-me
  gatepass advise --arch monolith --framework flask
  gatepass advise                      # asks, when run on a terminal

architectures: monolith, spa (SPA + API), microservices, mobile.
frameworks: fastapi (the default; any ASGI app), flask (any WSGI app).
Exit codes: 0 advice printed, 2 usage error (e.g. --arch missing and stdin not a terminal).
"""


def register(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser = new_command(
        sub,
        common,
        "advise",
        summary="which login-state design, why, and its configuration",
        description="Recommend a login-state design for your architecture and needs, with the "
        "reasoning, the trade-offs you accept and the app protected by gatepass's web layer.",
        epilog=_EPILOG,
    )
    parser.add_argument("--arch", choices=tuple(ARCHITECTURES), help="your architecture")
    parser.add_argument(
        "--framework",
        choices=tuple(FRAMEWORKS),
        default="fastapi",
        help="the web framework the configuration is written for (default: fastapi)",
    )
    parser.add_argument(
        "--instant-revocation",
        action="store_true",
        default=None,
        help=NEEDS["instant_revocation"].summary,
    )
    parser.add_argument(
        "--remember-me", action="store_true", default=None, help=NEEDS["remember_me"].summary
    )
    parser.add_argument(
        "--cross-domain", action="store_true", default=None, help=NEEDS["cross_domain"].summary
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
            needs[need] = _ask(f"{text.question} [y/n]: ", ["y", "n", "yes", "no"])[0] == "y"
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
    advice = recommend(arch, needs, args.framework)
    if args.json:
        emit_json(advice.as_dict())
        return 0
    wanted = [NEEDS[n].summary for n, on in needs.items() if on]
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
    printer.line(printer.paint(f"Configuration (Python): {FRAMEWORKS[advice.framework]}", "bold"))
    for line in advice.config.rstrip("\n").split("\n"):
        printer.line(f"    {line}" if line else "")
    return 0
