"""Helpers shared by the strategy tests (imported as a plain module, like the other gp_* kits)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from gatepass import AccessTokens, KeyRing, RefreshTokens
from gatepass.errors import RevokedToken
from gatepass.stores.records import Family
from gatepass.strategies._refresh_policy import ReuseEvent, parse
from gp_testkit import FakeClock


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``predicate`` until it holds (propagation is asynchronous); no timing is asserted."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


def rejected(tokens: Any, token: str) -> bool:
    try:
        tokens.verify(token)
    except RevokedToken:
        return True
    return False


ISS, AUD = "https://auth.example", "api"
SECRET = b"r" * 32


def family(store: Any, token: str) -> Family:
    """The stored family of a refresh token (it must exist)."""
    parsed = parse(token)
    assert parsed is not None
    found = store.family_of(*parsed)
    assert found is not None
    return found


def setup_flow(
    store: Any, clock: FakeClock, *, mode: str = "stateless", **kw: Any
) -> tuple[RefreshTokens, AccessTokens, list[ReuseEvent]]:
    """Refresh and access tokens on ``store`` and ``clock``, collecting reuse events."""
    events: list[ReuseEvent] = []
    access = AccessTokens(
        KeyRing.generate("ES256"),
        issuer=ISS,
        audience=AUD,
        clock=clock,
        revocation=mode,
        store=store if mode != "stateless" else None,
    )
    options: dict[str, Any] = {
        "idle_timeout": 3600,
        "absolute_timeout": 86400,
        "grace": 5,
        "secret": SECRET,
        "clock": clock,
        "on_reuse": events.append,
    }
    options.update(kw)
    return RefreshTokens(store, access, **options), access, events
