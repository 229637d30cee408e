"""Scopes kept with a session the app created itself (``Sessions.create(..., metadata=)``).

The login endpoint keeps them as a list; an app may write them as a token's ``scope`` is
written, one space-separated string. Read character by character, ``"admin read"`` granted the
scopes ``a``, ``d``, ``m``... and not ``admin``: a string is read as the list it spells.
"""

from __future__ import annotations

import pytest
from webapps import APPS
from webclient import Expect, Step, run
from webdesigns import serving

from gatepass import Sessions, open_store

ADMIN = Expect(200, json={"user": "carol", "scopes": ["admin", "read"]})


@pytest.mark.parametrize("app", APPS)
async def test_scopes_written_as_one_string_are_read_as_a_list(app: str, sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    store.setup()
    sessions = Sessions(store)
    spelled, _ = sessions.create("carol", metadata={"scopes": "admin read"})
    listed, _ = sessions.create("carol", metadata={"scopes": ["admin", "read"]})
    async with serving(app, "session", sqlite_url) as target:
        await run(target, (
            Step("GET /admin", ADMIN, cookies=f"__Host-session={spelled}"),
            Step("GET /admin", ADMIN, cookies=f"__Host-session={listed}"),
        ))  # fmt: skip
    store.close()
