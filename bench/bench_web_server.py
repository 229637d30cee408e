"""Whole-server throughput: uvicorn (one worker) under wrk on loopback, bare app vs gatepass.

Each variant is the same tiny ASGI app served by ``uvicorn --workers 1``; ``wrk`` (Debian's
package: ``apt-get install wrk``; a well-kept load generator, not one written here) sends
requests over keep-alive connections for a fixed time, each request with one of many distinct
credentials in turn (a Lua script rotates them). Variants run interleaved, several rounds;
the table shows median requests per second, p50 and p99 latency, and the share of the bare
app's throughput each variant keeps.

``pyjwt-bearer`` is the peer: the same tokens checked by the PyJWT middleware people write by hand.
``strategy-bearer`` and ``strategy-session`` are floors, not ways to use gatepass: the same
strategies behind a middleware that does nothing but call them (``web_apps.StrategyOnly``), so
the table shows what any web layer built on them could keep at best.

Targets (issue 9): bearer auth keeps at least 90% of the bare app's requests per second, session
cookies on SQLite at least 85%.

    .venv/bin/python bench/bench_web_server.py
    .venv/bin/python bench/bench_web_server.py --seconds 5 --rounds 3 --connections 32
    .venv/bin/python bench/bench_web_server.py --app fastapi   # a one-route FastAPI app inside
    .venv/bin/python bench/bench_web_server.py --app fastapi-async   # its route an async def
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from web_apps import AUD, ISS  # noqa: E402

VARIANTS = (
    "bare",
    "bearer",
    "pyjwt-bearer",
    "session-sqlite",
    "strategy-bearer",
    "strategy-session",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _credentials(variant: str, secret: bytes, db: Path, count: int) -> list[str]:
    """One header line per request, cycled by the Lua script."""
    import gatepass

    if variant in ("bearer", "pyjwt-bearer", "strategy-bearer"):
        key = gatepass.Key.from_secret(secret, "HS256")
        access = gatepass.AccessTokens(key, issuer=ISS, audience=AUD)
        return [f"Authorization: Bearer {access.issue(f'user-{i}')}" for i in range(count)]
    if variant in ("session-sqlite", "strategy-session"):
        store = gatepass.open_store(f"sqlite:///{db}")
        store.setup()
        sessions = gatepass.Sessions(store)
        cookies = [
            f"Cookie: __Host-session={sessions.create(f'user-{i}')[0]}" for i in range(count)
        ]
        store.close()
        return cookies
    return ["Accept: text/plain"]


def _lua(lines: list[str], path: Path) -> Path:
    entries = ",\n".join(
        "{" + repr(line.split(": ", 1)[0]) + ", " + repr(line.split(": ", 1)[1]) + "}"
        for line in lines
    )
    path.write_text(
        "local creds = {\n" + entries + "\n}\nlocal i = 0\n"
        "request = function()\n  i = i % #creds + 1\n"
        "  local h = {}\n  h[creds[i][1]] = creds[i][2]\n"
        "  return wrk.format('GET', '/me', h)\nend\n"
    )
    return path


def _serve(variant: str, secret: bytes, db: Path, port: int, app: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "GP_BENCH_APP": app,
        "GP_BENCH_VARIANT": variant,
        "GP_BENCH_SECRET": secret.hex(),
        "GP_BENCH_DB": str(db),
        "PYTHONPATH": str(HERE),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "web_server_app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"uvicorn did not start for {variant}")


def _wrk(port: int, script: Path, seconds: int, connections: int) -> tuple[float, float, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]

    def pct(label: str) -> float:
        value, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    return rps, pct("50"), pct("99")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--credentials", type=int, default=5000)
    parser.add_argument(
        "--app",
        choices=("asgi", "fastapi", "fastapi-async"),
        default="asgi",
        help="what sits behind the middleware: a raw ASGI callable, or a one-route FastAPI app "
        "whose route is a plain function (run in FastAPI's thread pool) or a coroutine",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    secret = secrets.token_bytes(32)
    results: dict[str, list[tuple[float, float, float]]] = {v: [] for v in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "server.db"
        scripts = {
            v: _lua(_credentials(v, secret, db, args.credentials), Path(tmp) / f"{v}.lua")
            for v in VARIANTS
        }
        for _ in range(args.rounds):
            for variant in VARIANTS:
                port = _free_port()
                server = _serve(variant, secret, db, port, args.app)
                try:
                    _wrk(port, scripts[variant], 2, args.connections)  # warm-up
                    results[variant].append(
                        _wrk(port, scripts[variant], args.seconds, args.connections)
                    )
                finally:
                    server.terminate()
                    server.wait(timeout=10)
    base = statistics.median(r[0] for r in results["bare"])
    print(
        f"{args.app} app, uvicorn 1 worker, wrk 1 thread {args.connections} connections, "
        f"{args.seconds} s x "
        f"{args.rounds} rounds, {args.credentials} distinct credentials; medians"
    )
    print(f"{'variant':16} {'req/s':>9} {'of bare':>8} {'p50 ms':>7} {'p99 ms':>7}")
    for variant, runs in results.items():
        rps = statistics.median(r[0] for r in runs)
        p50 = statistics.median(r[1] for r in runs)
        p99 = statistics.median(r[2] for r in runs)
        print(f"{variant:16} {rps:9.0f} {rps / base:8.1%} {p50:7.2f} {p99:7.2f}")
    print("targets: bearer >= 90% of bare, session-sqlite >= 85% of bare")
    print("strategy-*: the same strategies behind a middleware that only calls them (a floor)")


if __name__ == "__main__":
    main()
