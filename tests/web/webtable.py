"""THE table: request sequences and what each must answer, for every design and every app.

Each :class:`Case` names the designs it applies to; ``test_web_table.py`` runs every case
against the bare ASGI app, FastAPI, the bare WSGI app and Flask (``webapps.py``), on SQLite and,
for the cases where the store matters, on Redis and PostgreSQL. A case is data only: requests
(``Step``) and expectations (``Expect``), see ``webclient.py``. ``OUTAGE`` cases need a store
whose server the test stops and starts again.

Design names: ``session`` (cookie), ``stateless`` / ``denylist`` / ``replicated`` (bearer JWT in
that revocation mode), ``hybrid`` (access JWT + refresh cookie), ``several`` (a session cookie,
the hybrid and bearer tokens in one app). The cases with a store that is down are in
``webtable_outage.py``.
"""

from __future__ import annotations

from webclient import STEAL_REFRESH, STOLEN, Case, Expect, Step
from webdesigns import PASSWORD

ALL = ("session", "stateless", "denylist", "replicated", "hybrid", "several")
SESSION = ("session", "several")
BEARER = ("stateless", "denylist", "replicated")
REVOCABLE = ("denylist", "replicated")
HYBRID = ("hybrid", "several")
TOKENS = (*BEARER, *HYBRID)
ASGI_ONLY = ("asgi", "fastapi")

ALICE = {"username": "alice", "password": PASSWORD}
BOB = {"username": "bob", "password": "bob's own password"}
CLEAR_SITE_DATA = '"cache", "cookies", "storage"'
REALM = 'Bearer realm="gatepass"'
INVALID = '~error="invalid_token"'

OK = Expect(200)
UNAUTH = Expect(401, "ERR_UNAUTHENTICATED", headers={"www-authenticate": REALM})
CSRF = Expect(403, "ERR_CSRF", cookies={"session": "kept"})
DOWN = Expect(
    503, "ERR_STORE_UNAVAILABLE", headers={"retry-after": "5"}, cookies={"session": "kept"}
)
ANON = Expect(200, json={"user": None})
ALICE_SESSION = Expect(200, json={"user": "alice", "design": "session", "session": True})
ALICE_HYBRID = Expect(200, json={"user": "alice", "design": "hybrid", "session": True})
ALICE_BEARER = Expect(200, json={"user": "alice", "design": "bearer", "session": False})
REVOKED = Expect(401, "ERR_TOKEN_REVOKED", headers={"www-authenticate": INVALID})
SESSION_GONE = Expect(401, "ERR_UNAUTHENTICATED", cookies={"session": "cleared"})

SESSION_FLAGS = ("Secure", "HttpOnly", "SameSite=Lax", "Path=/", "!Domain", "!Max-Age", "!Expires")
REFRESH_FLAGS = ("Secure", "HttpOnly", "SameSite=Strict", "Path=/auth/refresh", "!Domain")
SEED_FLAGS = ("Secure", "HttpOnly", "SameSite=Lax", "Path=/", "!Domain", "!Max-Age")

LOGIN_SESSION = Step("POST /auth/login", OK, json={**ALICE, "design": "session"})
LOGIN_HYBRID = Step("POST /auth/login", OK, json={**ALICE, "design": "hybrid"})
LOGIN_BEARER = Step("POST /auth/login", OK, json={**ALICE, "design": "bearer"})
BOB_SESSION = Step("POST /auth/login", OK, json={**BOB, "design": "session"}, actor="b")


def me(expect: Expect, **kw: object) -> Step:
    return Step("GET /me", expect, **kw)  # type: ignore[arg-type]


# A table reads best with one request per line: the formatter would give each argument a line.
# fmt: off
CASES: tuple[Case, ...] = (
    # --- anonymous -----------------------------------------------------------------------------
    Case("anonymous probe varies on Cookie", SESSION, (
        Step("GET /probe", Expect(200, json={"user": None}, headers={"vary": "Cookie"})),
    )),
    Case("the app's own Vary is kept, and Cookie is added as a token of its own", SESSION, (
        Step("GET /vary?v=X-Cookie-Id", Expect(200, headers={"vary": "+Cookie"})),
        Step("GET /vary?v=X-Cookie-Id", Expect(200, headers={"vary": "+X-Cookie-Id"})),
        Step("GET /vary?v=Accept-Encoding,%20cookie", Expect(200, headers={"vary":
             "Accept-Encoding, cookie"})),
        Step("GET /vary?v=*", Expect(200, headers={"vary": "*"})),
        LOGIN_SESSION,
        Step("GET /vary?v=Accept", Expect(200, json={"user": "alice"}, headers={"vary":
             "+Cookie"})),
    )),
    Case("anonymous probe without sessions has no Vary", (*BEARER, "hybrid"), (
        Step("GET /probe", Expect(200, json={"user": None}, headers={"vary": None})),
    )),
    Case("anonymous required routes are 401", ALL, (
        me(UNAUTH._replace(headers={"www-authenticate": REALM, "cache-control": "no-store"})),
        Step("GET /admin", UNAUTH),
        Step("GET /recent", UNAUTH),
        Step("POST /me", UNAUTH),
    )),
    Case("a bad bearer token is 401 invalid_token, even where a user is optional", TOKENS, (
        me(Expect(401, "ERR_JWS_MALFORMED", headers={"www-authenticate": INVALID}), bearer="x"),
        Step("GET /probe", Expect(401, "ERR_JWS_MALFORMED"), bearer="junk.junk.junk"),
        me(Expect(401, "ERR_JWS_MALFORMED", headers={"www-authenticate": INVALID}), bearer=""),
    )),
    Case("a bearer header is not gatepass's where no access tokens are configured", ("session",), (
        Step("GET /probe", ANON, bearer="something-else"),
    )),
    # --- session cookie ------------------------------------------------------------------------
    Case("session login sets a __Host- cookie and the routes see the user", SESSION, (
        Step("POST /auth/login", Expect(
            200,
            json={"user_id": "alice", "design": "session"},
            headers={"cache-control": "no-store"},
            cookies={"session": "set"},
            flags={"session": SESSION_FLAGS},
        ), json={**ALICE, "design": "session"}),
        Step("GET /probe", Expect(200, json={
            "user": "alice", "design": "session", "session": True, "token": False,
            "scopes": ["read"],
        }, headers={"vary": "Cookie"})),
        me(ALICE_SESSION),
        Step("GET /recent", ALICE_SESSION),
        Step("GET /admin", Expect(403, "ERR_INSUFFICIENT_SCOPE", headers={
            "www-authenticate": '~error="insufficient_scope", scope="admin"'})),
        Step("POST /me", ALICE_SESSION),
    )),
    Case("remember-me makes the session cookie persistent", SESSION, (
        Step("POST /auth/login", Expect(200, cookies={"session": "set"}, flags={
            "session": ("Max-Age=2592000", "Secure", "HttpOnly", "SameSite=Lax", "Path=/")}),
            json={**ALICE, "design": "session", "remember": True}),
        me(ALICE_SESSION),
    )),
    Case("a scope granted at login reaches the route", SESSION, (
        Step("POST /auth/login", OK, json={"username": "root", "password": "root's password",
                                           "design": "session"}),
        Step("GET /admin", Expect(200, json={"user": "root", "scopes": ["admin", "read"]})),
    )),
    Case("form login redirects to a local next with the cookie", SESSION, (
        Step("POST /auth/login", Expect(303, headers={"location": "/home", "cache-control":
             "no-store"}, cookies={"session": "set"}), form={**ALICE, "design": "session",
             "next": "/home"}),
        me(ALICE_SESSION),
    )),
    Case("form login failure redirects to fail with ?error=login", ALL, (
        Step("POST /auth/login", Expect(303, headers={"location": "/login?error=login",
             "set-cookie": None}), form={"username": "alice", "password": "nope", "fail":
             "/login"}),
        Step("POST /auth/login", Expect(303, headers={"location": "/login?x=1&error=login"}),
             form={"username": "alice", "password": "nope", "fail": "/login?x=1"}),
        Step("GET /probe", ANON),
    )),
    Case("logout ends the session, clears the cookie, Clear-Site-Data, no-store", SESSION, (
        LOGIN_SESSION,
        Step("SAVE stolen={session_cookie}"),
        Step("POST /auth/logout", Expect(200, json={"logged_out": True}, headers={
            "clear-site-data": CLEAR_SITE_DATA, "cache-control": "no-store"},
            cookies={"session": "cleared"})),
        Step("GET /probe", ANON),
        me(SESSION_GONE, actor="t", cookies="__Host-session={a.stolen}"),
    )),
    Case("logout without a login still clears and succeeds", ALL, (
        Step("POST /auth/logout", Expect(200, headers={"clear-site-data": CLEAR_SITE_DATA,
             "cache-control": "no-store"})),
    )),
    Case("form logout redirects to next", SESSION, (
        LOGIN_SESSION,
        Step("POST /auth/logout", Expect(303, headers={"location": "/bye", "clear-site-data":
             CLEAR_SITE_DATA}, cookies={"session": "cleared"}), form={"next": "/bye"}),
    )),
    Case("log out everywhere ends every other device", SESSION, (
        LOGIN_SESSION,
        LOGIN_SESSION._replace(actor="b"),
        me(ALICE_SESSION, actor="b"),
        Step("POST /auth/logout-all", Expect(200, json={"logged_out": True, "sessions_revoked":
             2}, headers={"clear-site-data": CLEAR_SITE_DATA}, cookies={"session": "cleared"})),
        me(SESSION_GONE, actor="b"),
        me(UNAUTH),
    )),
    Case("your devices: list, revoke another, revoke this one", SESSION, (
        LOGIN_SESSION,
        LOGIN_SESSION._replace(actor="b"),
        Step("GET /auth/sessions", Expect(200, json={"user_id": "alice"}, headers={
             "cache-control": "no-store"})),
        Step("DELETE /auth/sessions/{other_sid}", Expect(204, cookies={"session": "kept"})),
        me(SESSION_GONE, actor="b"),
        me(ALICE_SESSION),
        Step("DELETE /auth/sessions/{sid}", Expect(204, cookies={"session": "cleared"})),
        me(UNAUTH),
    )),
    Case("DELETE of another user's session is 404 and it lives on", SESSION, (
        BOB_SESSION,
        Step("GET /auth/sessions", Expect(200, json={"user_id": "bob"}), actor="b"),
        LOGIN_SESSION,
        Step("DELETE /auth/sessions/{b.sid}", Expect(404, "ERR_NOT_FOUND")),
        Step("DELETE /auth/sessions/not-an-id", Expect(404, "ERR_NOT_FOUND")),
        me(Expect(200, json={"user": "bob"}), actor="b"),
    )),
    # --- CSRF ----------------------------------------------------------------------------------
    Case("unsafe requests with the session cookie: fetch metadata and Origin", SESSION, (
        LOGIN_SESSION,
        Step("POST /me", ALICE_SESSION, site="same-origin"),
        Step("POST /me", CSRF, site="cross-site"),
        Step("POST /me", CSRF, site="same-site"),
        Step("POST /me", ALICE_SESSION, site="old-same"),
        Step("POST /me", CSRF, site="old-cross"),
        Step("POST /me", CSRF, site="null"),
        Step("DELETE /auth/sessions/any-id", CSRF, site="cross-site"),
        Step("POST /auth/logout", CSRF, site="cross-site"),
        Step("POST /auth/logout-all", CSRF, site="old-cross"),
        me(ALICE_SESSION, site="cross-site"),  # a safe request: a link from another site
    )),
    Case("no fetch metadata: the session-bound token, in the header or the form", SESSION, (
        LOGIN_SESSION,
        Step("POST /me", CSRF, site="script"),
        Step("POST /me", CSRF, site="script", headers={"x-csrf-token": "A" * 43}),
        Step("POST /me", ALICE_SESSION, site="script", headers={"x-csrf-token": "{csrf}"}),
        Step("POST /echo", Expect(200, json={"user": "alice", "echo": "a=1&csrf_token={csrf}"}),
             site="script", body="a=1&csrf_token={csrf}",
             content_type="application/x-www-form-urlencoded"),
        Step("POST /echo", CSRF, site="script", body="a=1&csrf_token=nope",
             content_type="application/x-www-form-urlencoded"),
        Step("POST /echo", Expect(200, json={"user": "alice"}), site="script", body="&".join(
             f"f{i}=x" for i in range(300)) + "&csrf_token={csrf}",
             content_type="application/x-www-form-urlencoded"),  # an app's big form
    )),
    Case("bearer requests are exempt from CSRF", (*BEARER, "hybrid"), (
        Step("POST /auth/login", OK, json=ALICE),  # each design's default login
        Step("POST /me", Expect(200, json={"user": "alice"}), site="cross-site", bearer="access"),
        Step("POST /me", Expect(200, json={"user": "alice"}), site="null", bearer="access"),
    )),
    # --- bearer --------------------------------------------------------------------------------
    Case("bearer login returns a token and sets no cookie", BEARER, (
        Step("POST /auth/login", Expect(200, json={"token_type": "Bearer", "expires_in": 900,
             "design": "bearer"}, headers={"set-cookie": None, "cache-control": "no-store"}),
             json=ALICE),
        me(Expect(200, json={"user": "alice", "design": "bearer", "session": False, "token":
           True, "scopes": ["read"]}), bearer="access"),
        Step("GET /recent", ALICE_BEARER, bearer="access"),
        Step("GET /admin", Expect(403, "ERR_INSUFFICIENT_SCOPE"), bearer="access"),
        Step("GET /probe", Expect(200, json={"user": "alice"}, headers={"vary": None}),
             bearer="access"),
    )),
    Case("an API client logs in for a bearer token without fetch metadata", (*BEARER, "several"), (
        Step("POST /auth/login", Expect(200, json={"design": "bearer"}, headers={"set-cookie":
             None}), json={**ALICE, "design": "bearer"}, site="script"),
        me(ALICE_BEARER, bearer="access", site="script"),
    )),
    Case("a bearer login leaves the browser's session cookie alone", ("several",), (
        LOGIN_SESSION,
        Step("POST /auth/login", Expect(200, cookies={"session": "kept"}), json={
             **ALICE, "design": "bearer"}, site="script"),
        me(ALICE_SESSION),
    )),
    Case("bearer logout revokes the token at once", REVOCABLE, (
        LOGIN_BEARER,
        Step("POST /auth/logout", Expect(200, headers={"clear-site-data": CLEAR_SITE_DATA}),
             bearer="access"),
        me(REVOKED, bearer="access"),
    )),
    Case("a stateless token outlives logout (it cannot be revoked)", ("stateless",), (
        LOGIN_BEARER,
        Step("POST /auth/logout", OK, bearer="access"),
        me(ALICE_BEARER, bearer="access"),
    )),
    Case("log out everywhere revokes every bearer token of the user", REVOCABLE, (
        LOGIN_BEARER,
        LOGIN_BEARER._replace(actor="b"),
        Step("POST /auth/logout-all", OK, bearer="access"),
        me(REVOKED, bearer="access", actor="b"),
        me(REVOKED, bearer="access"),
    )),
    Case("bearer login in an app of several designs", ("several",), (
        LOGIN_BEARER,
        me(ALICE_BEARER, bearer="access"),
        Step("POST /auth/logout", OK, bearer="access"),
        me(REVOKED, bearer="access"),
    )),
    # --- hybrid --------------------------------------------------------------------------------
    Case("hybrid login: access token in the body, refresh cookie scoped and Strict", HYBRID, (
        Step("POST /auth/login", Expect(200, json={"token_type": "Bearer", "expires_in": 900},
             cookies={"refresh": "set", "session": "kept"}, flags={"refresh": REFRESH_FLAGS},
             headers={"cache-control": "no-store"}), json={**ALICE, "design": "hybrid"}),
        me(ALICE_HYBRID, bearer="access"),
        Step("GET /probe", ALICE_HYBRID, bearer="access"),
        Step("POST /auth/refresh", Expect(200, json={"token_type": "Bearer"}, cookies={
             "refresh": "set"}, flags={"refresh": REFRESH_FLAGS})),
        me(ALICE_HYBRID, bearer="access"),
        Step("GET /recent", ALICE_HYBRID, bearer="access"),
    )),
    Case("refresh without the cookie is 401", HYBRID, (
        Step("POST /auth/refresh", UNAUTH),
    )),
    Case("refresh is CSRF-checked", HYBRID, (
        LOGIN_HYBRID,
        Step("POST /auth/refresh", Expect(403, "ERR_CSRF", cookies={"refresh": "kept"}),
             site="cross-site"),
        Step("POST /auth/refresh", Expect(403, "ERR_CSRF"), site="script"),
        Step("POST /auth/refresh", OK, site="script", headers={"x-csrf-token": "{csrf}"}),
    )),
    Case("refresh-token reuse revokes the family and clears the cookie", HYBRID, (
        LOGIN_HYBRID,
        STEAL_REFRESH,
        Step("POST /auth/refresh", OK),
        Step("POST /auth/refresh", Expect(401, "ERR_REFRESH_TOKEN_REUSED", cookies={
             "refresh": "cleared"}), cookies=STOLEN, actor="t"),
        Step("POST /auth/refresh", Expect(401, "ERR_TOKEN_REVOKED", cookies={"refresh":
             "cleared"})),
        me(REVOKED, bearer="access"),
    )),
    Case("hybrid logout ends the login: access token and refresh family", HYBRID, (
        LOGIN_HYBRID,
        STEAL_REFRESH,
        Step("POST /auth/logout", Expect(200, headers={"clear-site-data": CLEAR_SITE_DATA},
             cookies={"refresh": "cleared"}), bearer="access"),
        me(REVOKED, bearer="access"),
        Step("POST /auth/refresh", Expect(401, "ERR_TOKEN_REVOKED", cookies={"refresh":
             "cleared"}), cookies=STOLEN, actor="t"),
    )),
    Case("hybrid devices: list, revoke another login", HYBRID, (
        LOGIN_HYBRID,
        LOGIN_HYBRID._replace(actor="b"),
        Step("GET /auth/sessions", Expect(200, json={"user_id": "alice"}), bearer="access"),
        Step("DELETE /auth/sessions/{other_sid}", Expect(204), bearer="access"),
        me(REVOKED, bearer="access", actor="b"),
        Step("POST /auth/refresh", Expect(401, cookies={"refresh": "cleared"}), actor="b"),
        me(ALICE_HYBRID, bearer="access"),
    )),
    Case("hybrid log out everywhere", HYBRID, (
        LOGIN_HYBRID,
        LOGIN_HYBRID._replace(actor="b"),
        Step("POST /auth/logout-all", OK, bearer="access"),
        me(REVOKED, bearer="access", actor="b"),
        Step("POST /auth/refresh", Expect(401, cookies={"refresh": "cleared"}), actor="b"),
    )),
    # --- several at once -----------------------------------------------------------------------
    Case("a bearer token wins over the session cookie", ("several",), (
        LOGIN_SESSION,
        Step("POST /auth/login", OK, json={**BOB, "design": "hybrid"}, actor="b"),
        Step("SAVE bobs={b.access}"),
        me(Expect(200, json={"user": "bob", "design": "hybrid"}), bearer="{bobs}"),
        me(Expect(401, "ERR_JWS_MALFORMED"), bearer="junk"),  # never falls back to the cookie
        me(ALICE_SESSION),
    )),
    # --- endpoints: methods, bodies, misc ------------------------------------------------------
    Case("the CSRF endpoint: a token, and a seed cookie for a visitor", ALL, (
        Step("GET /auth/csrf", Expect(200, headers={"cache-control": "no-store"}, cookies={
             "seed": "set"}, flags={"seed": SEED_FLAGS})),
        Step("GET /auth/csrf", Expect(200, cookies={"seed": "kept"})),
    )),
    Case("a page that renders a form sets the seed cookie", ALL, (
        Step("GET /form", Expect(200, json={"user": None}, cookies={"seed": "set"})),
        Step("POST /auth/login", Expect(200, json={"user_id": "alice"}), site="script",
             json=ALICE, headers={"x-csrf-token": "{csrf}"}),
    )),
    Case("a dead session's page gets a token bound to the visitor, not to the dead id", SESSION, (
        LOGIN_SESSION,
        Step("SAVE old={session_cookie}"),
        Step("POST /auth/logout", OK),
        Step("GET /form", Expect(200, json={"user": None}, cookies={"session": "cleared",
             "seed": "set"}), cookies="__Host-session={a.old}", actor="t"),
        Step("POST /auth/login", Expect(200, json={"user_id": "alice"}), site="script",
             json={**ALICE, "design": "session"}, headers={"x-csrf-token": "{csrf}"}, actor="t"),
    )),
    Case("the public keys", TOKENS, (
        Step("GET /.well-known/jwks.json", Expect(200, headers={
            "content-type": "application/jwk-set+json", "cache-control": "public, max-age=300"})),
    )),
    Case("no keys to publish without access tokens", ("session",), (
        Step("GET /.well-known/jwks.json", Expect(404, "ERR_NOT_FOUND")),
    )),
    Case("methods: 405 with Allow, 404 under the prefix, HEAD", ALL, (
        Step("GET /auth/login", Expect(405, "ERR_METHOD_NOT_ALLOWED", headers={"allow": "POST"})),
        Step("PUT /auth/logout", Expect(405, headers={"allow": "POST"})),
        Step("POST /auth/csrf", Expect(405, headers={"allow": "GET, HEAD"})),
        Step("GET /auth/sessions/abc", Expect(405, headers={"allow": "DELETE"})),
        Step("GET /auth/nothing", Expect(404, "ERR_NOT_FOUND")),
        Step("GET /auth/csrf", Expect(200, headers={"content-length": "60"})),
        Step("HEAD /auth/csrf", Expect(200, headers={"cache-control": "no-store",
             "content-length": "60"})),
    )),
    Case("the browser client script", ALL, (
        Step("GET /auth/gatepass.js", Expect(200, headers={
            "content-type": "text/javascript; charset=utf-8",
            "x-content-type-options": "nosniff"})),
    )),
    Case("malformed login bodies are 400 and never quote the password", ALL, (
        Step("POST /auth/login", Expect(400, "ERR_BAD_REQUEST", hides=("s3cr3t-pw",)),
             body='{"username": "alice", "password": "s3cr3t-pw', content_type="application/json"),
        Step("POST /auth/login", Expect(400, "ERR_BAD_REQUEST"), body='["alice", "s3cr3t-pw"]',
             content_type="application/json"),
        Step("POST /auth/login", Expect(400, "ERR_BAD_REQUEST", hides=("s3cr3t-pw",)),
             json={"username": "alice", "password": ["s3cr3t-pw"]}),
        Step("POST /auth/login", Expect(400, "ERR_BAD_REQUEST"), json={"username": "alice"}),
        Step("POST /auth/login", Expect(400, "ERR_BAD_REQUEST"), body="username=alice&password="
             "%FF%FE", content_type="application/x-www-form-urlencoded"),
        Step("POST /auth/login", Expect(400, "ERR_BAD_REQUEST"), body="&".join(
             f"f{i}=x" for i in range(60)), content_type="application/x-www-form-urlencoded"),
        Step("POST /auth/login", Expect(400, "ERR_BAD_REQUEST"), body="<xml/>",
             content_type="text/xml"),
        Step("POST /auth/login", Expect(400, "ERR_BAD_REQUEST"), json={**ALICE, "design": "x"}),
        Step("POST /auth/login", Expect(400, "ERR_BAD_REQUEST"), json={**ALICE, "remember": 7}),
        Step("GET /probe", ANON),
    )),
    Case("a body over max_body is 413", ALL, (
        Step("POST /auth/login", Expect(413, "ERR_TOO_LARGE"), json={**ALICE, "pad": "x" * 20000}),
    )),
    Case("wrong password and unknown user are the same 401", ALL, (
        Step("POST /auth/login", Expect(401, "ERR_INVALID_CREDENTIALS", hides=("wrong-pw-1",),
             cookies={"session": "kept"}), json={"username": "alice", "password": "wrong-pw-1"}),
        Step("POST /auth/login", Expect(401, "ERR_INVALID_CREDENTIALS"), json={"username":
             "nobody", "password": "wrong-pw-1"}),
    )),
    Case("a password check that raises or returns junk never logs in", ALL, (
        Step("POST /auth/login", Expect(500, headers={"set-cookie": None}), json={"username":
             "raises", "password": "raises"}),
        Step("POST /auth/login", Expect(500, headers={"set-cookie": None}), json={"username":
             "junk", "password": "junk"}),
        Step("POST /auth/login", Expect(500, headers={"set-cookie": None}), json={"username":
             "truthy", "password": "truthy"}),
        Step("POST /auth/login", Expect(500, headers={"set-cookie": None}), json={"username":
             "empty", "password": "empty"}),
        Step("GET /probe", ANON),
    )),
    Case("unicode credentials and a unicode next", SESSION, (
        Step("POST /auth/login", Expect(200, json={"user_id": "unicode-user"}), json={
             "username": "ünï", "password": "pässwörd ☃", "design": "session"}),
        Step("POST /auth/login", Expect(303, headers={"location": "/caf%C3%A9?q=%E2%98%83"},
             cookies={"session": "set"}), form={"username": "ünï", "password": "pässwörd ☃",
             "design": "session", "next": "/café?q=☃"}),
        me(Expect(200, json={"user": "unicode-user"})),
        Step("POST /auth/logout", Expect(303, headers={"location": "/%C2%85x%20y%22"}), form={
             "next": "/\x85x y\""}),
    )),
    Case("open redirects through next and fail are refused", SESSION, (
        *(Step("POST /auth/login", Expect(303, headers={"location": "/"}), form={
            **ALICE, "design": "session", "next": target}) for target in (
            "https://evil.example/", "//evil.example", "/\\evil.example", "\\\\evil.example",
            "javascript:alert(1)", "/\r\nSet-Cookie: x=1", "", " /x")),
        Step("POST /auth/login", Expect(303, headers={"location": "/?error=login"}), form={
             "username": "alice", "password": "nope", "fail": "https://evil.example/"}),
    )),
    Case("the app itself raises: a 500, nothing else", ALL, (
        Step("GET /boom", Expect(500)),
    )),
    # --- websocket -----------------------------------------------------------------------------
    Case("websocket: the session cookie from this origin, and a foreign origin is closed",
         SESSION, (
        LOGIN_SESSION,
        Step("WS /ws", Expect(101, json={"user": "alice", "design": "session"})),
        Step("WS /ws", Expect(403), site="cross-site"),
        Step("WS /ws", Expect(403), site="old-cross"),
        Step("WS /ws", Expect(403), site="null"),
        Step("WS /ws", Expect(101, json={"user": None}), site="cross-site", jar=False),
        Step("WS /ws-me", Expect(101, json={"user": "alice"})),
        Step("WS /ws-me", Expect(403), jar=False),
    ), apps=ASGI_ONLY),
)

# fmt: on

#: Cases where the store does the work (logins, revocation, rotation, devices): these run on
#: Redis and PostgreSQL too, with the asyncio strategies (FastAPI) and the blocking ones (WSGI).
STORE_NAMES = (
    "session login sets a __Host- cookie and the routes see the user",
    "remember-me makes the session cookie persistent",
    "logout ends the session, clears the cookie, Clear-Site-Data, no-store",
    "log out everywhere ends every other device",
    "your devices: list, revoke another, revoke this one",
    "DELETE of another user's session is 404 and it lives on",
    "bearer login returns a token and sets no cookie",
    "bearer logout revokes the token at once",
    "log out everywhere revokes every bearer token of the user",
    "bearer login in an app of several designs",
    "hybrid login: access token in the body, refresh cookie scoped and Strict",
    "refresh-token reuse revokes the family and clears the cookie",
    "hybrid logout ends the login: access token and refresh family",
    "hybrid devices: list, revoke another login",
    "hybrid log out everywhere",
    "a bearer token wins over the session cookie",
)
STORE_CASES = tuple(
    case._replace(apps=("fastapi", "wsgi")) for case in CASES if case.name in STORE_NAMES
)
assert len(STORE_CASES) == len(STORE_NAMES)
