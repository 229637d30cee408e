"""The few primitives where the blocking and asyncio front-ends differ by nature.

The asyncio sources under ``_async/`` use the ``Async*`` / ``async_*`` names below;
``scripts/unasync.py`` renames them to their blocking twins (``AsyncEvent`` -> ``Event``,
``async_sleep`` -> ``sleep``, ...) in the generated ``_sync/`` modules. Each pair does the same
thing with a thread or with a task: nothing else in the front-ends needs to know which.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class AsyncEvent:
    """``asyncio.Event`` with a bounded wait."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    async def wait(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)
        return self._event.is_set()


class Event:
    """``threading.Event`` (same interface as :class:`AsyncEvent`)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)


class AsyncWorker:
    """A background loop as a task on the running event loop."""

    def __init__(self, target: Callable[[], Awaitable[None]], name: str) -> None:
        self._target = target
        self._name = name
        self._task: asyncio.Task[None] | None = None
        self.stopping = False

    @property
    def started(self) -> bool:
        return self._task is not None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            coroutine = self._target()
            self._task = asyncio.get_running_loop().create_task(coroutine, name=self._name)  # type: ignore[arg-type]

    async def pause(self, seconds: float) -> bool:
        """Sleep ``seconds``; whether the worker is stopping."""
        await asyncio.sleep(seconds)
        return self.stopping

    async def stop(self) -> None:
        self.stopping = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


class Worker:
    """A background loop in a daemon thread (same interface as :class:`AsyncWorker`)."""

    def __init__(self, target: Callable[[], None], name: str) -> None:
        self._target = target
        self._name = name
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def started(self) -> bool:
        return self._thread is not None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._target, name=self._name, daemon=True)
            self._thread.start()

    def pause(self, seconds: float) -> bool:
        """Sleep ``seconds`` (less if stopped meanwhile); whether the worker is stopping."""
        return self._stop.wait(seconds)

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5.0)


async def async_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


def sleep(seconds: float) -> None:
    time.sleep(seconds)


async def async_run_blocking(fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    """``fn(*args, **kwargs)`` in a worker thread: blocking I/O off the event loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def run_blocking(fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    return fn(*args, **kwargs)


class AsyncLock:
    """``asyncio.Lock`` (``async with``)."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> None:
        await self._lock.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self._lock.release()


class Lock:
    """``threading.Lock`` (``with``; same interface as :class:`AsyncLock`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()
