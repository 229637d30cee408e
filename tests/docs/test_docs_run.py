"""Every code block of README.md and docs/**/*.md runs, as the page shows it.

Pages are found at collection time, so a new page (docs/web.md, docs/dpop.md, ...) is picked up
without touching this file. Each page runs in its own scratch copy of the checkout (the files
git tracks plus new ones, with ``.venv`` linked to the checkout's environment and first on PATH),
the way a reader who has cloned the repository and run ``make test`` would run it. Its blocks run
in page order:

* A block whose info string says ``setup`` (```` ```sh setup ````, ```` ```python setup ````)
  declares what the examples after it use; it is shown to the reader like any block. What it
  defines (Python names, shell variables) is there for every later block; what any other block
  defines ends with that block, so each example runs as written on top of the setup above it, as
  a reader pasting just that one would run it. Files stay on disk.
* ``python`` blocks run in a fresh interpreter per page (``docs_python.py``), one event loop
  (top-level ``await`` works); what the page opened (stores, listeners) is closed afterwards.
* ``sh`` blocks: every line that is not blank or a comment is a command; ``console`` blocks:
  ``$ `` lines are commands and the lines under one are the output it shows. Commands run in bash;
  within a block, variables and ``cd`` carry over from command to command. stdin is empty (not
  a terminal); stdout and stderr are read together, as a terminal shows them.
* A command must exit 0 unless its line ends with ``# exit N``. Output a console block shows must
  match what the command prints, all of it: ``...`` alone on a line matches any number of lines,
  ``...`` inside a line any text. A ``^C`` line means the reader presses Ctrl-C there: the
  harness sends SIGINT once the lines above it have been printed; the command may then end by
  that signal (``make`` does) as well as with its own status.
* ``text`` blocks are figures (trees, key layouts, a policy string): not run, and refused when
  they hold something that looks like a command or code. A block without a language, or with one
  the harness does not know, fails: nothing is skipped silently.

What the harness changes, always the same way, so that nothing touches shared servers or the
development environment:

* Redis URLs (``redis://host:port/N``) become the test server's db 15 with a private key prefix,
  PostgreSQL URLs the test database with a private schema; both are removed afterwards. A page
  that uses one skips loudly without the server (and fails under ``CI=true``), like every test.
  ``redis+cluster://`` URLs are refused (no cluster here).
* ``--port N`` (N > 0) becomes a free port, in the command and in the output it shows; ``PORT=0``
  in the environment makes servers that read it (the reference app) take a free port, so a page
  shows their URL as ``http://127.0.0.1:.../``.
* ``BROWSER=true``: "opens your browser" runs a no-op command.
* ``pip install ...`` runs for real into a fresh virtual environment made for the page; the
  page's later commands use it.
* ``make test`` is what runs this test: ``make -n test`` must list ruff, ``ruff format --check``,
  ``mypy --strict`` and pytest. ``make bench`` and ``bench/bench_*.py`` measure for minutes on a
  quiet machine: ``make -n bench`` must run every script, and a script must start and list in
  its ``--help`` every option the page passes. Every other command runs for real; a ``make``
  command (``make demo``) with ``VENV`` pointing at a fresh virtual environment of the page's, so
  the Makefile's own installation steps run too, never into the development ``.venv``.
* Languages the harness cannot run (``html`` and ``js`` for the browser client) are listed in
  ``RUN_ELSEWHERE`` with the test that runs every such block of that page in a real browser; the
  harness checks that the test exists and reads the page. Any other language fails.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from docs_runner import ROOT, Services, copy_checkout, development_environment, run_page
from mdblocks import check_block, parse_blocks

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

#: (page, language) -> the test that runs every block of that language on that page, for the
#: languages this harness cannot run itself: the browser client's HTML and JavaScript.
RUN_ELSEWHERE = {
    ("docs/gatepass-js.md", "html"): "tests/web_browser/test_docs_gatepass_js.py",
    ("docs/gatepass-js.md", "js"): "tests/web_browser/test_docs_gatepass_js.py",
}


def page_id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_block_of_the_page_runs(
    page: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    name = page_id(page)
    blocks = parse_blocks(page.read_text(encoding="utf-8"), name)
    elsewhere = {b.language for b in blocks if (name, b.language) in RUN_ELSEWHERE}
    for language in elsewhere:
        runner = ROOT / RUN_ELSEWHERE[name, language]
        assert runner.is_file(), f"{name}: {runner} (which runs its {language} blocks) is gone"
        assert page.name in runner.read_text(encoding="utf-8"), f"{runner} does not read {name}"
    blocks = [b for b in blocks if b.language not in elsewhere]
    problems = [p for p in map(check_block, blocks) if p]
    assert problems == []
    services = Services(need=request.getfixturevalue, token=secrets.token_hex(3))
    checkout = copy_checkout(tmp_path / "checkout")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    environment = development_environment()
    try:
        report = run_page(blocks, checkout, scratch, services)
    finally:
        services.clean()
        assert development_environment() == environment, "the page changed the .venv"
    print(f"\n{name}:\n  " + "\n  ".join(report or ["no code blocks"]))
