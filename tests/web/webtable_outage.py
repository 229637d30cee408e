"""The table's cases for a store that is down: a private Redis that the test stops (SIGKILL)
and starts again with its data (``OUTAGE``), and PostgreSQL where nothing listens at all
(``NOTHING_LISTENING``). Whatever came with the request is kept: a 503 with ``Retry-After``,
never a cleared cookie, never "logged out", and everyone is logged in again once the store is
back.
"""

from __future__ import annotations

from webclient import Case, Step
from webtable import (
    ALICE,
    ALICE_BEARER,
    ALICE_HYBRID,
    ALICE_SESSION,
    DOWN,
    HYBRID,
    LOGIN_BEARER,
    LOGIN_HYBRID,
    LOGIN_SESSION,
    OK,
    SESSION,
    me,
)

from gatepass.strategies._refresh_policy import first_token, new_family_id
from gatepass.strategies._session_tokens import new_token

# fmt: off
OUTAGE: tuple[Case, ...] = (
    Case("store down: 503 with Retry-After, the cookie kept, nobody logged out", SESSION, (
        LOGIN_SESSION,
        Step("STORE down"),
        me(DOWN),
        Step("GET /probe", DOWN),
        Step("POST /auth/logout", DOWN._replace(cookies={"session": "kept"},
             headers={"clear-site-data": None, "retry-after": "5"})),
        Step("POST /auth/logout-all", DOWN),
        Step("GET /auth/sessions", DOWN),
        Step("POST /auth/login", DOWN, json={**ALICE, "design": "session"}, actor="b"),
        Step("STORE up"),
        me(ALICE_SESSION, eventually=True),
    ), outage=True),
    Case("store down: a denylist token cannot be checked", ("denylist",), (
        LOGIN_BEARER,
        Step("STORE down"),
        me(DOWN, bearer="access"),
        Step("POST /auth/logout", DOWN, bearer="access"),
        Step("STORE up"),
        me(ALICE_BEARER, bearer="access", eventually=True),
    ), outage=True),
    Case("store down: the replicated cache fails closed, then resyncs", ("replicated",), (
        LOGIN_BEARER,
        Step("STORE down"),
        me(DOWN, bearer="access", eventually=True),
        Step("STORE up"),
        me(ALICE_BEARER, bearer="access", eventually=True),
    ), outage=True),
    Case("store down: a stateless token needs no store", ("stateless",), (
        LOGIN_BEARER,
        Step("STORE down"),
        me(ALICE_BEARER, bearer="access"),
        Step("STORE up"),
    ), outage=True),
    Case("store down: refresh is 503 and keeps the refresh cookie", HYBRID, (
        LOGIN_HYBRID,
        Step("STORE down"),
        Step("POST /auth/refresh", DOWN._replace(cookies={"refresh": "kept"})),
        me(DOWN, bearer="access", eventually=True),
        Step("STORE up"),
        Step("POST /auth/refresh", OK, eventually=True),
        me(ALICE_HYBRID, bearer="access", eventually=True),
    ), outage=True),
)

#: A session cookie and a refresh cookie of the right shape, for a store that was never up.
SOME_SESSION = f"__Host-session={new_token('alice')}"
_FAMILY = new_family_id()
SOME_REFRESH = (
    f"__Secure-refresh={first_token('alice', _FAMILY)}; __Host-refresh-family={_FAMILY}"
)

#: Nothing listens where the store should be (PostgreSQL on a closed port): what came with the
#: request is kept, and nothing pretends to have logged anybody in or out. The asyncio
#: strategies (FastAPI) and the blocking ones (WSGI) each meet the dead server.
NOTHING_LISTENING: tuple[Case, ...] = (
    Case("nothing listening: the session cookie is kept, 503", SESSION, (
        me(DOWN, cookies=SOME_SESSION),
        Step("GET /probe", DOWN, cookies=SOME_SESSION),
        Step("POST /auth/logout", DOWN._replace(headers={"clear-site-data": None,
             "retry-after": "5"}), cookies=SOME_SESSION),
        Step("POST /auth/login", DOWN, json={**ALICE, "design": "session"}),
        Step("GET /auth/sessions", DOWN, cookies=SOME_SESSION),
    ), apps=("fastapi", "wsgi")),
    Case("nothing listening: a denylist token cannot be checked", ("denylist",), (
        LOGIN_BEARER,
        me(DOWN, bearer="access"),
    ), apps=("fastapi", "wsgi")),
    Case("nothing listening: no hybrid login, refresh keeps its cookie", ("hybrid",), (
        Step("POST /auth/login", DOWN._replace(cookies={"refresh": "kept"}), json=ALICE),
        Step("POST /auth/refresh", DOWN._replace(cookies={"refresh": "kept"}),
             cookies=SOME_REFRESH),
    ), apps=("fastapi", "wsgi")),
)
# fmt: on
