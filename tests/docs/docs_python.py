"""Runs one docs page's Python blocks in a fresh interpreter, the way a reader's would.

Started by ``docs_runner.PythonSession`` (``python docs_python.py FD``): it reads one JSON request
per line on stdin (``source``, ``where``, ``cwd``, ``setup``), runs the block and answers on file
descriptor FD (``{"ok": true}`` or the traceback). A separate process keeps what a page does
(registering a schema, changing the working directory, starting threads) out of the test run.
Setup blocks run in the page's namespace; every other block on a copy of it. Top-level ``await``
works, on one event loop per page. At the end, what the page opened (gatepass stores, access
tokens with listeners) is closed.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import os
import sys
import traceback
from typing import Any


def _close(namespaces: list[dict[str, Any]], loop: asyncio.AbstractEventLoop) -> None:
    seen: set[int] = set()
    for value in [v for ns in namespaces for v in ns.values()]:
        if id(value) in seen or not (type(value).__module__ or "").startswith("gatepass."):
            continue
        seen.add(id(value))
        close = getattr(value, "close", None)
        if callable(close):
            try:
                result = close()
                if inspect.isawaitable(result):
                    loop.run_until_complete(result)
            except Exception:
                pass


def main() -> None:
    replies = os.fdopen(int(sys.argv[1]), "w", buffering=1)
    setup: dict[str, Any] = {"__name__": "__main__"}
    used: list[dict[str, Any]] = [setup]
    loop = asyncio.new_event_loop()
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("close"):
            break
        namespace = setup if request["setup"] else dict(setup)
        used.append(namespace)
        try:
            os.chdir(request["cwd"])
            flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
            code = compile(request["source"], request["where"], "exec", flags=flags)
            if code.co_flags & inspect.CO_COROUTINE:
                loop.run_until_complete(eval(code, namespace))
            else:
                exec(code, namespace)
            reply: dict[str, Any] = {"ok": True}
        except BaseException:
            reply = {"ok": False, "error": traceback.format_exc()}
        sys.stdout.flush()
        sys.stderr.flush()
        replies.write(json.dumps(reply) + "\n")
    _close(used, loop)
    loop.close()
    replies.write(json.dumps({"closed": True}) + "\n")


if __name__ == "__main__":
    main()
