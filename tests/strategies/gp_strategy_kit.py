"""Helpers shared by the strategy tests (imported as a plain module, like the other gp_* kits)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from gatepass.errors import RevokedToken, StoreUnavailable


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


def state_of(tokens: Any, token: str) -> str:
    """What one verify says: ``ok``, ``revoked`` or ``unavailable`` (anything else raises)."""
    try:
        tokens.verify(token)
    except RevokedToken:
        return "revoked"
    except StoreUnavailable:
        return "unavailable"
    return "ok"
