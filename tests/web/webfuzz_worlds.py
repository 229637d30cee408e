"""The configurations the property tests of ``test_web_fuzz.py`` run, each built as a
:class:`~webfuzz.World` on a fresh store of its own (``webdesigns.build`` makes the strategies)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import pytest
from webdesigns import build
from webfuzz import TRUSTED, World

from gatepass import Key
from gatepass.stores import open_async_store, open_store
from gatepass.web import CookiePolicy

#: name -> (store, design of ``webdesigns.build``, options). ``asgi-async``: the ASGI side
#: runs the asyncio strategies (the WSGI side always runs the blocking ones); the others give
#: both sides the blocking strategies, which the docs call fine in an event loop for memory
#: and SQLite.
CONFIGS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "session-memory": ("memory", "session", {"asgi-async": True}),
    "session-sqlite": ("sqlite", "session", {}),
    "stateless": ("memory", "stateless", {"asgi-async": True}),
    "replicated": ("sqlite", "replicated", {}),
    "hybrid": ("sqlite", "hybrid", {"asgi-async": True}),
    "several": ("memory", "several", {}),
    "dpop": ("memory", "dpop", {"asgi-async": True}),
    "insecure": ("memory", "several", {"cookies": "insecure"}),
    "cross-site": ("memory", "several", {"cookies": "cross-site", "asgi-async": True}),
    "prefix": ("memory", "several", {"prefix": "/api/gp"}),
    "mounted": ("memory", "dpop", {"mount": "/app"}),
}


@contextmanager
def world(config: str, tmp: str, *, asgi: bool) -> Iterator[World]:
    """A fresh :class:`World` of ``config`` for the ASGI side (``asgi``) or the WSGI side;
    ``tmp`` is a directory for SQLite."""
    store_kind, design, options = CONFIGS[config]
    asynchronous = asgi and bool(options.get("asgi-async"))
    url = "memory://" if store_kind == "memory" else f"sqlite:///{tmp}/{time.monotonic_ns()}.db"
    loop = asyncio.new_event_loop()

    def wait(result: Any) -> Any:
        return loop.run_until_complete(result) if inspect.isawaitable(result) else result

    store = open_async_store(url) if asynchronous else open_store(url)
    wait(store.setup())
    settings: dict[str, Any] = {"prefix": options.get("prefix", "/auth")}
    cookies = options.get("cookies")
    # The insecure opt-in warns loudly (each policy Gatepass derives from it too): expected here.
    insecure = cookies == "insecure"
    with pytest.warns(UserWarning, match="INSECURE cookies") if insecure else nullcontext():
        if insecure:
            settings["cookies"] = CookiePolicy(insecure_http=True)
        elif cookies == "cross-site":
            settings["cookies"] = CookiePolicy(cross_site=True)
            settings["trusted_origins"] = [TRUSTED]
        built = build(design, store, asynchronous=asynchronous, **settings)
    key = Key.generate("ES256") if design == "dpop" else None
    try:
        yield World(
            built.gatepass,
            settings["prefix"],
            design,
            cookies != "insecure",
            dpop_key=key,
            mount=options.get("mount", ""),
            loop=loop,
        )
    finally:
        wait(built.close())
        wait(store.close())
        loop.close()
