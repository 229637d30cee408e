"""`make demo`: every login-state design of the article, live on SQLite, and its table measured.

No server is needed: the walkthrough's store is one SQLite file under ``./demo-data`` (or
``--db PATH``), and the measured table covers memory and SQLite only. This is
``gatepass compare --walkthrough --redis off --postgres off``; the story lives in
:mod:`gatepass.compare.walkthrough`, the measurements in :mod:`gatepass.compare`.

    python -m gatepass.demo [--db PATH] [--rounds N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gatepass.cli.main import main as gatepass_main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gatepass.demo", description=__doc__)
    parser.add_argument("--db", type=Path, default=Path("demo-data/gatepass-demo.db"))
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds per measurement")
    args = parser.parse_args(argv)
    return gatepass_main(
        [
            "compare",
            "--walkthrough",
            "--db",
            str(args.db),
            "--rounds",
            str(max(1, args.rounds)),
            "--redis",
            "off",
            "--postgres",
            "off",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
