"""Run a web-layer plan with blocking I/O (WSGI) or with asyncio (ASGI): the only twin code.

A *plan* is a generator that makes every decision and hands each piece of I/O to its driver by
yielding it:

* ``value = yield strategy.method(...)``: with a blocking strategy (:class:`gatepass.Sessions`)
  the call has already happened and the driver sends its result straight back; with an asyncio
  one (:class:`gatepass.AsyncSessions`, same method names) the call made a coroutine, which the
  asyncio driver awaits. Exceptions arrive at the ``yield`` either way, so a plan handles
  ``StoreUnavailable`` with a plain ``try``.
* ``body = yield READ_BODY``: the request body, read by the driver (bounded), only when a
  decision needs it.

This is h11's idea applied to authentication: the decisions exist once, in plans; the two drivers
below are the only code that differs between the blocking and the asyncio world, and they hold
no decision.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

from gatepass.errors import ConfigurationError

__all__ = ["READ_BODY", "Plan", "run_async", "run_sync"]

T = TypeVar("T")
Plan = Generator[Any, Any, T]


class _ReadBody:
    __slots__ = ()

    def __repr__(self) -> str:
        return "READ_BODY"


READ_BODY: Any = _ReadBody()


def run_sync(plan: Plan[T], read_body: Callable[[], bytes]) -> T:
    """Drive ``plan`` with blocking I/O (a WSGI request, a Flask view)."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = plan.throw(error) if error is not None else plan.send(value)
        except StopIteration as stop:
            result: T = stop.value
            return result
        value, error = None, None
        if step is READ_BODY:
            try:
                value = read_body()
            except Exception as exc:
                error = exc
        elif inspect.isawaitable(step):
            if inspect.iscoroutine(step):
                step.close()  # never awaited: close it so Python does not warn about it
            error = ConfigurationError(
                "an asyncio strategy or callback was given to a blocking (WSGI) app: use "
                "Sessions / AccessTokens / RefreshTokens and a plain function"
            )
        else:
            value = step


async def run_async(plan: Plan[T], read_body: Callable[[], Awaitable[bytes]]) -> T:
    """Drive ``plan`` with asyncio (an ASGI request, a FastAPI dependency).

    Blocking strategies are accepted too and called in the event loop: right for the memory and
    SQLite stores, whose reads take microseconds (a worker thread would cost ten times more),
    wrong for Redis and PostgreSQL, which need the asyncio strategies.
    """
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = plan.throw(error) if error is not None else plan.send(value)
        except StopIteration as stop:
            result: T = stop.value
            return result
        value, error = None, None
        try:
            if step is READ_BODY:
                value = await read_body()
            elif hasattr(type(step), "__await__"):
                value = await step
            else:
                value = step
        except Exception as exc:
            error = exc
