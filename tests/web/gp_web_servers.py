"""Real servers on loopback for the web tests: an ASGI app under uvicorn, a WSGI app under
waitress, each on a free port in a thread of the test process, stopped when the block ends.

Requests then go over TCP (``webclient.Target(server=url)``), so what the in-process transports
cannot show is tested too: the server's own parsing of headers and bodies, and a store outage
met by a real worker.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from waitress.server import create_server

from gp_testkit import uvicorn_serving  # shared with tests outside tests/web


@contextmanager
def waitress_serving(app: Any) -> Iterator[str]:
    """``app`` under waitress (two worker threads) on a free loopback port."""
    server: Any = create_server(app, host="127.0.0.1", port=0, threads=2)
    stopping = threading.Event()

    def serve() -> None:
        try:
            server.run()
        except OSError:
            # Closing the sockets races the loop's last select(): a closed descriptor then is
            # the shutdown itself, not a fault of the app under test.
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stopping.set()
        # Closed from its own loop (the trigger runs the call there): closing the sockets from
        # this thread while the loop sits in select() would hand it a closed descriptor.
        try:
            server.trigger.pull_trigger(server.close)
        except OSError:  # the trigger is closed already: the loop is stopping on its own
            server.close()
        thread.join(10)


#: server name -> (the app of ``webapps`` it serves, the context manager that serves it)
SERVERS = {"uvicorn": ("fastapi", uvicorn_serving), "waitress": ("flask", waitress_serving)}
