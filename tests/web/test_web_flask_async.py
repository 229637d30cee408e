"""Flask's ``login_required`` and ``login_optional`` on ``async def`` views.

Flask runs an ``async def`` view through ``Flask.ensure_sync`` / ``async_to_sync`` (asgiref, or
whatever an app's ``Flask`` subclass puts there, as Flask's docs suggest). The decorators wrap the
view in a plain function, so they must hand the view to that bridge themselves; otherwise the
view's coroutine is returned as if it were a response (a 500, and the view never runs). Here the
bridge is ``asyncio.run`` in a ``Flask`` subclass (so the test needs no extra package), under
waitress, whose worker threads have no event loop of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from flask import Flask
from gp_web_servers import waitress_serving
from webapps import principal_json
from webclient import Expect, Step, Target, run
from webdesigns import SECRET, check_password
from webtable import ALICE_SESSION, ANON, LOGIN_SESSION, UNAUTH

from gatepass import Sessions, open_store
from gatepass.web import Gatepass
from gatepass.web.flask import GatepassFlask, current_user, login_optional, login_required


class AsyncioFlask(Flask):
    def async_to_sync(self, func: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., Any]:
        return lambda *args, **kwargs: asyncio.run(func(*args, **kwargs))


async def test_the_decorators_run_async_views(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    store.setup()
    gp = Gatepass(sessions=Sessions(store), check_password=check_password, secret=SECRET)
    app = AsyncioFlask("gatepass_async_views")
    GatepassFlask(app, gp)

    @app.get("/me")
    @login_required
    async def me() -> Any:
        await asyncio.sleep(0)
        return principal_json(current_user)

    @app.get("/probe")
    @login_optional
    async def probe() -> Any:
        await asyncio.sleep(0)
        return principal_json(current_user or None)

    with waitress_serving(app) as url:
        target = Target("flask", None, gp, server=url)
        try:
            await run(target, (
                Step("GET /me", UNAUTH),
                Step("GET /probe", ANON),
                LOGIN_SESSION,
                Step("GET /me", ALICE_SESSION),
                Step("GET /probe", Expect(200, json={"user": "alice"})),
            ))  # fmt: skip
        finally:
            await target.aclose()
            store.close()
