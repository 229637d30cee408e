"""A private PostgreSQL server for the tests (``initdb`` + ``pg_ctl`` from Debian's
``postgresql`` binaries), on loopback, that tests may crash, freeze and start again. Nothing
here touches the shared server on 5432."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from gp_loopback import free_port, wait_port


def postgres_bindir() -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``: ``pg_config --bindir``,
    else the newest ``/usr/lib/postgresql/*/bin`` (Debian keeps them off ``PATH``)."""
    candidates: list[str] = []
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, check=True, timeout=30
            )
            candidates.append(out.stdout.decode().strip())

    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.name
        return tuple(int(part) for part in name.split(".") if part.isdigit())

    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    for candidate in candidates:
        path = Path(candidate)
        if all(os.access(path / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return path
    return None


def postgres_os_user() -> pwd.struct_passwd | None:
    """The account initdb/postgres run as when we are root (they refuse to run as root)."""
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        return None


class PostgresServer:
    """One private PostgreSQL cluster (``initdb``) that tests may crash and start again.

    Listens on 127.0.0.1 only (a free port) with its own unix socket directory; trust
    authentication for the ``postgres`` role; ``fsync=off`` for speed (committed data still
    survives a crash of the *server processes*, which is the outage simulated here: the WAL is
    written to the OS at every commit, only the flush to disk is skipped). :meth:`stop` is
    ``pg_ctl stop -m immediate``: every backend is killed without a checkpoint, and the next
    :meth:`start` runs crash recovery.

    As root (this machine's CI), ``initdb`` and ``postgres`` refuse to run, so every command runs
    as the ``postgres`` OS user through ``runuser``, and the base directory is a private
    ``mkdtemp`` in the system temp dir owned by that user (pytest's own temp tree is mode 0700
    for root, so the postgres user could not reach a directory inside it). As a normal user the
    commands run directly and everything lives under ``workdir``.
    """

    def __init__(self, workdir: Path, bindir: Path, port: int | None = None) -> None:
        self.bindir = bindir
        self.port = port if port is not None else free_port()
        self.as_root = os.geteuid() == 0
        workdir.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            self.base = Path(tempfile.mkdtemp(prefix="gatepass-pg-"))
        else:
            self.base = Path(tempfile.mkdtemp(prefix="pg-", dir=workdir))
        self.data = self.base / "data"
        self.sockets = self.base / "sock"
        self.log = self.base / "postgres.log"
        self.sockets.mkdir()
        if self.as_root:
            user = postgres_os_user()
            if user is None:
                raise RuntimeError("running as root and there is no 'postgres' OS user")
            for path in (self.base, self.sockets):
                os.chown(path, user.pw_uid, user.pw_gid)
            self.base.chmod(0o700)

    def _run(self, tool: str, *args: str, timeout: float = 60.0) -> str:
        command = [str(self.bindir / tool), *args]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        out = subprocess.run(
            command,
            cwd=self.base,  # the postgres user may not be allowed into our cwd
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(
                f"{tool} {' '.join(args)} failed ({out.returncode}): "
                f"{out.stdout.decode()}{out.stderr.decode()}{self.log_tail()}"
            )
        return out.stdout.decode()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n--- postgres.log ---\n" + "\n".join(
                self.log.read_text(errors="replace").splitlines()[-lines:]
            )
        except OSError:
            return ""

    def init(self) -> PostgresServer:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.sockets}'",
            "fsync": "off",
            "full_page_writes": "off",
            "max_connections": "50",
            "shared_buffers": "16MB",
        }
        # Appending keeps the file's owner (the postgres user when we are root).
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{k} = {v}\n" for k, v in settings.items())
        return self

    def start(self) -> PostgresServer:
        """Start (or, after :meth:`stop`, restart with crash recovery) on the same port."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")
        wait_port(self.port, up=True)
        return self

    def stop(self) -> None:
        """Crash the server: ``pg_ctl stop -m immediate`` (no checkpoint, backends killed)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "60", "stop")
        wait_port(self.port, up=False)

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def waiting_on_locks(self, app: str) -> int:
        """How many backends of ``application_name`` ``app`` wait for a lock right now."""
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = %s AND wait_event_type = 'Lock'",
                (app,),
            ).fetchone()
        assert row is not None
        return int(row[0])

    def processes(self) -> list[int]:
        """The postmaster and every process below it (backends, checkpointer, walwriter...)."""
        root = self.postmaster_pid()
        if root is None:
            return []
        children: dict[int, list[int]] = {}
        for stat in glob.glob("/proc/[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                text = Path(stat).read_text()
                # "pid (comm) state ppid ...": comm may hold spaces, so split after its ')'
                pid = int(text.split(" ", 1)[0])
                ppid = int(text.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(pid)
        found, todo = [], [root]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found

    def freeze(self, sig: signal.Signals = signal.SIGSTOP) -> None:
        """SIGSTOP every server process: the server hangs with its sockets open (its kernel
        still accepts connections and acknowledges packets, nothing answers)."""
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def thaw(self) -> None:
        """SIGCONT every server process (undoes :meth:`freeze`)."""
        self.freeze(signal.SIGCONT)

    def destroy(self) -> None:
        """Stop the server if it runs (SIGKILL as a last resort) and remove its directory."""
        self.thaw()  # a frozen server would not stop
        if self.postmaster_pid() is not None:
            try:
                self.stop()
            except (RuntimeError, subprocess.SubprocessError):
                pid = self.postmaster_pid()
                if pid is not None:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                with contextlib.suppress(RuntimeError):
                    wait_port(self.port, up=False)
        shutil.rmtree(self.base, ignore_errors=True)

    @property
    def dsn(self) -> str:
        """A plain libpq URL (for psycopg itself): the ``postgres`` role and database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, schema: str, **options: str | int | float) -> str:
        """A gatepass store URL: ``schema`` plus further URL options (gatepass's or libpq's)."""
        query = "&".join(f"{k}={v}" for k, v in {"schema": schema, **options}.items())
        return f"{self.dsn}?{query}"
