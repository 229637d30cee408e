"""Running a page's code blocks for real: Python in one namespace, shell in one session.

Used by ``test_docs_run.py``, whose docstring states the conventions; HACKING.md ("Docs that
run") says the same for authors.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mdblocks import INTERRUPT, Block, Command, output_matches, prefix_matches

ROOT = Path(__file__).resolve().parents[2]
COMMAND_TIMEOUT = 240.0  # seconds; `pip install .` into a fresh environment is the slowest

# --- commands that are checked rather than run, and why --------------------------------------


@dataclass(frozen=True)
class Policy:
    pattern: re.Pattern[str]
    kind: str  # "dry-run" | "options" | "scratch-venv"
    why: str
    must_list: tuple[str, ...] = ()


POLICIES = (
    Policy(
        re.compile(r"^make test\b"),
        "dry-run",
        "`make test` is what runs this very test: the harness checks with `make -n test` that "
        "it runs ruff, ruff format --check, mypy --strict and pytest",
        ("ruff check", "ruff format --check", "mypy --strict", "-m pytest"),
    ),
    Policy(
        re.compile(r"^make bench\b"),
        "dry-run",
        "the benchmarks measure for minutes on a quiet machine: `make -n bench` must run every "
        "bench/bench_*.py",
        ("bench/bench_*.py",),
    ),
    Policy(
        re.compile(r"^(\S*/)?python3?\s+bench/bench_\w+\.py\b"),
        "options",
        "a benchmark measures for minutes: the script must start and list every option the page "
        "passes in its --help",
    ),
    Policy(
        re.compile(r"^pip install\b"),
        "scratch-venv",
        "runs for real, into a fresh virtual environment made for the page (never the "
        "development one); the page's later commands use that environment",
    ),
)


def policy_for(line: str) -> Policy | None:
    return next((p for p in POLICIES if p.pattern.search(line.strip())), None)


# Installing into the development environment from a scratch copy would point its editable
# install at a directory about to be deleted: refused, as a page must show `pip install ...`.
_DEV_VENV_INSTALL = re.compile(r"\.venv/bin/(pip3?|python3?\s+-m\s+pip)\s+install\b")


def development_environment() -> dict[str, str]:
    """The .pth files of the development environment (its editable install among them)."""
    return {
        str(path): path.read_text(encoding="utf-8", errors="replace")
        for path in (ROOT / ".venv").glob("lib/python*/site-packages/*.pth")
    }


# --- documented service URLs -> private test resources -----------------------------------------

_REDIS = re.compile(r"\brediss?://[^\s'\"`)]+")
_POSTGRES = re.compile(r"\bpostgres(?:ql)?://[^\s'\"`)]+")
_CLUSTER = re.compile(r"\bredis\+cluster://")
_PORT = re.compile(r"--port (\d+)\b")


@dataclass
class Services:
    """Maps the URLs a page shows to the test servers' private corners, and cleans them up."""

    need: Callable[[str], str]  # "redis_url" / "postgres_url" -> the fixture's URL (or skips)
    token: str
    mapped: dict[str, str] = field(default_factory=dict)
    redis_urls: list[str] = field(default_factory=list)
    schemas: list[tuple[str, str]] = field(default_factory=list)

    def rewrite(self, text: str, where: str) -> str:
        if _CLUSTER.search(text):
            raise AssertionError(f"{where}: a Redis Cluster URL; the docs tests have no cluster")
        text = _REDIS.sub(lambda m: self._map(m.group(), "redis"), text)
        return _POSTGRES.sub(lambda m: self._map(m.group(), "postgres"), text)

    def _map(self, url: str, kind: str) -> str:
        """The same database (whatever the options) maps to the same private corner."""
        parts = urllib.parse.urlsplit(url)
        database = f"{parts.scheme}://{parts.netloc}{parts.path}"
        if database not in self.mapped:
            n = len(self.mapped)
            if kind == "redis":
                self.mapped[database] = f"prefix=gpdocs:{self.token}:{n}:"
                self.redis_urls.append(f"{self.need('redis_url')}?{self.mapped[database]}")
            else:
                self.mapped[database] = f"schema=gpdocs_{self.token}_{n}"
                self.schemas.append((self.need("postgres_url"), f"gpdocs_{self.token}_{n}"))
        name, _, value = self.mapped[database].partition("=")
        query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k != name]
        query.append((name, value))
        base = self.redis_urls[0].split("?")[0] if kind == "redis" else self._postgres_base()
        return f"{base}?{urllib.parse.urlencode(query)}"

    def _postgres_base(self) -> str:
        return self.schemas[0][0]

    def clean(self) -> None:
        from gp_testkit import drop_redis_prefix

        for url in self.redis_urls:
            drop_redis_prefix(url)
        for base, schema in self.schemas:
            import psycopg

            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the reader's checkout ----------------------------------------------------------------------


_NOT_COPIED = {".venv", ".git", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis"}


def _checkout_files() -> list[str]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode()
        return [name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (an unpacked archive)
        return [
            path.relative_to(ROOT).as_posix()
            for path in ROOT.rglob("*")
            if path.is_file()
            and not _NOT_COPIED.intersection(path.relative_to(ROOT).parts)
            and "__pycache__" not in path.parts
        ]


def copy_checkout(dest: Path) -> Path:
    """A scratch copy of the checkout (tracked and new files), its .venv linked, not copied."""
    for name in _checkout_files():
        source = ROOT / name
        if not source.is_file():
            continue  # deleted in the work tree, not committed yet
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    (dest / ".venv").symlink_to(ROOT / ".venv", target_is_directory=True)
    return dest


# --- Python blocks ------------------------------------------------------------------------------

DRIVER = Path(__file__).resolve().with_name("docs_python.py")


class PythonSession:
    """A page's Python blocks, run one by one in their own interpreter (``docs_python.py``)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.proc: subprocess.Popen[str] | None = None
        self.replies: Any = None

    def _start(self) -> subprocess.Popen[str]:
        if self.proc is None:
            read, write = os.pipe()
            self.proc = subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "python"), str(DRIVER), str(write)],
                stdin=subprocess.PIPE,
                text=True,
                env=self.env,
                pass_fds=(write,),
            )
            os.close(write)
            self.replies = os.fdopen(read)
        return self.proc

    def _ask(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        proc = self._start()
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(request) + "\n")
        proc.stdin.flush()
        answer: list[str] = []
        reader = threading.Thread(target=lambda: answer.append(self.replies.readline()))
        reader.daemon = True
        reader.start()
        reader.join(timeout)
        if not answer or not answer[0]:
            proc.kill()
            raise AssertionError(f"{request.get('where', 'closing')}: no answer in {timeout} s")
        reply: dict[str, Any] = json.loads(answer[0])
        return reply

    def run(self, source: str, where: str, cwd: Path, *, setup: bool) -> None:
        request = {"source": source, "where": where, "cwd": str(cwd), "setup": setup}
        reply = self._ask(request, COMMAND_TIMEOUT)
        if not reply["ok"]:
            raise AssertionError(f"{where}: the block raised:\n{reply['error']}")

    def close(self) -> None:
        if self.proc is None:
            return
        try:
            self._ask({"close": True}, 60)
            self.proc.wait(30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.replies.close()


# --- shell blocks -------------------------------------------------------------------------------


@dataclass
class Outcome:
    status: int
    lines: list[str]


class ShellSession:
    """A reader's terminal: within a block variables and ``cd`` carry over from command to
    command; a setup block's carry over to the whole page, another block's end with it (files
    stay: a key one example writes is there for the next)."""

    def __init__(self, cwd: Path, scratch: Path) -> None:
        self.cwd = self.base_cwd = cwd
        self.scratch = scratch
        self.base_state = scratch / "shell-state"
        self.base_state.write_text("")
        self.state = self.base_state
        self.env = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "GATEPASS_DEBUG"}}
        self.env.update(
            PATH=f"{cwd / '.venv' / 'bin'}{os.pathsep}{self.env.get('PATH', '')}",
            PYTHONUNBUFFERED="1",
            BROWSER="true",  # `gatepass tools` "opens your browser": a no-op command here
            PORT="0",  # servers that read PORT (the reference app) take a free port
            TERM="dumb",
        )
        vectors = ROOT.parent / "shared" / "vectors"
        if "GATEPASS_VECTORS" not in self.env and vectors.is_dir():
            self.env["GATEPASS_VECTORS"] = str(vectors)
        self.venv: Path | None = None
        self.make_venv = scratch / "make-venv"

    def _script(self, line: str) -> str:
        return (
            f"set -a\n. {shlex.quote(str(self.state))}\ncd {shlex.quote(str(self.cwd))}\n"
            f"{line}\n__gp_status=$?\n"
            f"export -p > {shlex.quote(str(self.state))}\n"
            f"pwd > {shlex.quote(str(self.state))}.cwd\nexit $__gp_status\n"
        )

    def execute(self, line: str, output: list[str] | None = None) -> Outcome:
        """Run ``line``; with a ``^C`` in ``output``, interrupt it once what is above shows."""
        interrupt_after = (
            output[: output.index(INTERRUPT)] if output and INTERRUPT in output else None
        )
        proc = subprocess.Popen(
            ["bash", "-c", self._script(line)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
        )
        lines: list[str] = []
        assert proc.stdout is not None
        stdout = proc.stdout

        def read() -> None:
            for raw in stdout:
                lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        deadline = time.monotonic() + COMMAND_TIMEOUT
        interrupted = False
        while proc.poll() is None:
            if time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise AssertionError(f"{line!r} still ran after {COMMAND_TIMEOUT} s: {lines[-5:]}")
            if (
                interrupt_after is not None
                and not interrupted
                and prefix_matches(interrupt_after, list(lines))
            ):
                os.killpg(proc.pid, signal.SIGINT)  # the reader presses Ctrl-C
                interrupted = True
            time.sleep(0.05)
        reader.join(10)
        cwd_file = Path(f"{self.state}.cwd")
        if cwd_file.exists():
            self.cwd = Path(cwd_file.read_text().strip())
        if interrupt_after is not None and not interrupted:
            raise AssertionError(f"{line!r} ended before the output shown above its ^C: {lines}")
        return Outcome(proc.returncode, lines)

    @contextlib.contextmanager
    def block(self, *, setup: bool) -> Iterator[None]:
        if setup:
            yield
            self.base_cwd = self.cwd
            return
        self.state = self.scratch / "block-state"
        shutil.copyfile(self.base_state, self.state)
        try:
            yield
        finally:
            self.state, self.cwd = self.base_state, self.base_cwd

    def use_scratch_venv(self) -> None:
        if self.venv is None:
            self.venv = self.scratch / "venv"
            subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
            self.env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{self.env['PATH']}"
            self.env.pop("VIRTUAL_ENV", None)


def run_command(shell: ShellSession, command: Command, where: str) -> str:
    """Run one documented command by its policy; returns what was done, for the report."""
    line = command.line
    output = list(command.output)
    port = _PORT.search(line)
    if port and port.group(1) != "0":  # a fixed port may be taken on a shared machine
        free = str(_free_port())
        line = line.replace(port.group(0), f"--port {free}")
        output = [o.replace(f":{port.group(1)}/", f":{free}/") for o in output]
    policy = policy_for(line)
    assert not _DEV_VENV_INSTALL.search(line), (
        f"{where}: `{line}` installs into the development environment; write `pip install ...`"
    )
    if policy is not None and policy.kind == "dry-run":
        dry = shell.execute(line.replace("make ", "make -n ", 1))
        assert dry.status == 0, (where, line, dry.lines)
        text = "\n".join(dry.lines)
        for needed in policy.must_list:
            assert needed in text, f"{where}: `{line}` no longer runs {needed!r}:\n{text}"
        return f"dry run: {policy.why}"
    if policy is not None and policy.kind == "options":
        words = shlex.split(line, comments=True)
        script = next(w for w in words if re.search(r"bench/bench_\w+\.py$", w))
        python = words[0]
        helped = shell.execute(f"{shlex.quote(python)} {shlex.quote(script)} --help")
        assert helped.status == 0, (where, line, helped.lines)
        text = "\n".join(helped.lines)
        for option in (w.split("=")[0] for w in words if w.startswith("--")):
            assert option in text, f"{where}: {script} has no option {option}:\n{text}"
        return f"options checked: {policy.why}"
    if policy is not None and policy.kind == "scratch-venv":
        shell.use_scratch_venv()
    if line.startswith("make "):
        # The Makefile's own set-up runs for real, into a virtual environment of the page's
        # (`VENV ?= .venv` reads it from the environment), never the development one.
        shell.env["VENV"] = str(shell.make_venv)
    try:
        outcome = shell.execute(line, output if command.shows_output else None)
    finally:
        shell.env.pop("VENV", None)
    interrupted = command.shows_output and INTERRUPT in output
    if interrupted and outcome.status in (-signal.SIGINT, 128 + signal.SIGINT):
        outcome = Outcome(0, outcome.lines)  # ended by the reader's Ctrl-C, as make does
    assert outcome.status == command.exit_status, (
        f"{where}: `{line}` exited {outcome.status}, the page says "
        f"{command.exit_status}:\n" + "\n".join(outcome.lines[-30:])
    )
    if command.shows_output:
        assert output_matches(output, outcome.lines), (
            f"{where}: `{line}` printed something else than the page shows.\n--- shown:\n"
            + "\n".join(output)
            + "\n--- printed:\n"
            + "\n".join(outcome.lines)
        )
    return "ran" + (f" ({policy.why})" if policy else "")


def run_page(blocks: list[Block], cwd: Path, scratch: Path, services: Services) -> list[str]:
    """Run every block of a page in order; returns one line per block saying what was done."""
    report: list[str] = []
    shell = ShellSession(cwd, scratch)
    python = PythonSession(shell.env)
    try:
        for block in blocks:
            if block.language == "text":
                report.append(f"{block.where}: text (a figure, not code)")
                continue
            source = services.rewrite(block.source, block.where)
            if block.language in {"python", "py"}:
                python.run(source, block.where, shell.cwd, setup=block.is_setup)
                report.append(f"{block.where}: python ran")
                continue
            rewritten = Block(block.path, block.line, block.language, block.attributes, source)
            with shell.block(setup=block.is_setup):
                for command in rewritten.commands():
                    done = run_command(shell, command, block.where)
                    report.append(f"{block.where}: `{command.line}` {done}")
    finally:
        python.close()
    return report
