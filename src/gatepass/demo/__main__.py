"""``python -m gatepass.demo`` (what ``make demo`` runs): start the reference app with uvicorn.

Checks the store before anything listens (a wrong URL or a server that is down is one clear
line, not a traceback), binds the port, prints the URL and the demo users, then serves until
Ctrl-C. The socket is bound and listening before the banner is printed, so the URL works the
moment it is shown.
"""

from __future__ import annotations

import asyncio
import socket
import sys

from gatepass.demo.accounts import DEMO_USERS
from gatepass.demo.layout import describe_store, duration
from gatepass.demo.settings import Settings, parse_settings
from gatepass.errors import GatepassError
from gatepass.stores import open_async_store

__all__ = ["main"]


async def _check_store(settings: Settings) -> None:
    """Create the tables (idempotent) once, so an unreachable store fails here, loudly."""
    settings.prepare()
    store = open_async_store(settings.store_url)
    try:
        await store.setup()
    finally:
        await store.close()


def _banner(settings: Settings, port: int) -> str:
    width = max(len(user.name) for user in DEMO_USERS)
    lines = [
        f"gatepass reference app: http://{settings.host}:{port}/",
        f"  store          {describe_store(settings.store_url)}",
        f"  access tokens  {settings.revocation} revocation, {duration(settings.access_ttl)}"
        f"; partner tokens stateless, {duration(settings.stateless_ttl)}",
        "  demo users (also shown on every login form):",
    ]
    for user in DEMO_USERS:
        role = "  (admin: may freeze other accounts)" if user.role == "admin" else ""
        lines.append(f"    {user.name.ljust(width)}  {user.password}{role}")
    lines.append("  press Ctrl-C to stop")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    try:
        settings = parse_settings(argv)
    except GatepassError as exc:
        print(f"gatepass demo: {exc}", file=sys.stderr)
        return 2
    # Imported here so that a missing extra is one clear line (the message names it).
    try:
        import uvicorn  # noqa: PLC0415

        from gatepass.demo.app import create_app  # noqa: PLC0415
    except ImportError as exc:
        print(
            f"gatepass demo: {exc.name} is missing: pip install 'gatepass[demo]'", file=sys.stderr
        )
        return 1
    except GatepassError as exc:  # MissingDependency from an adapter
        print(f"gatepass demo: {exc}", file=sys.stderr)
        return 1
    try:
        asyncio.run(_check_store(settings))
        app = create_app(settings)
    except GatepassError as exc:
        print(f"gatepass demo: cannot start: {exc.code}: {exc}", file=sys.stderr)
        return 1
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((settings.host, settings.port))
        listener.listen(128)
    except OSError as exc:
        listener.close()
        print(
            f"gatepass demo: cannot listen on port {settings.port}: {exc.strerror}", file=sys.stderr
        )
        return 1
    port = int(listener.getsockname()[1])
    print(_banner(settings, port), flush=True)
    config = uvicorn.Config(app, log_level="info", lifespan="on")
    try:
        uvicorn.Server(config).run(sockets=[listener])
    except KeyboardInterrupt:
        # uvicorn shuts down cleanly on Ctrl-C, then raises the signal again for its caller:
        # stopping the demo is the expected way to end it, not an error worth a traceback.
        print("gatepass demo: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
