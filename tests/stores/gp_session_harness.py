"""Test helpers shared by the store suites: the sync/async harness."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import gatepass
from gp_testkit import FakeClock


class Harness:
    """``Sessions`` or ``AsyncSessions`` behind awaitable methods, plus the raw store."""

    def __init__(self, sessions: Any, store: Any, clock: FakeClock, mode: str, url: str) -> None:
        self.sessions = sessions
        self.store = store
        self.clock = clock
        self.mode = mode
        self.url = url

    def __getattr__(self, name: str) -> Callable[..., Any]:
        fn = getattr(self.sessions, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            result = fn(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
            return result

        return call

    async def with_options(self, **options: Any) -> Harness:
        """Another Sessions object on the same store (e.g. a new configuration)."""
        cls = gatepass.AsyncSessions if self.mode == "async" else gatepass.Sessions
        options.setdefault("clock", self.clock)
        return Harness(cls(self.store, **options), self.store, self.clock, self.mode, self.url)


#: Where the store suites' clocks start: in the past, so that a purge at the real time (``None``)
#: sees their expired sessions as expired.
START = 1_700_000_000.0

DEFAULTS: dict[str, Any] = {
    "idle_timeout": 100.0,
    "absolute_timeout": 1000.0,
    "touch_interval": 10.0,
    "remember_idle_timeout": 500.0,
    "remember_absolute_timeout": 5000.0,
}
