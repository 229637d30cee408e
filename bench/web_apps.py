"""The apps ``bench_web.py`` and ``bench_web_server.py`` measure: one tiny app behind each
middleware, with many distinct credentials already issued for it.

The peers are set up the way their documentation shows: Starlette's ``SessionMiddleware`` (a
signed cookie, no store), starsessions on Redis (loads on every request, saves what changed),
and the PyJWT middleware people write by hand (find the header, ``jwt.decode`` with audience and
issuer). Flask's own signed-cookie session is the WSGI peer.
"""

from __future__ import annotations

import contextlib
import inspect
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

ISS = "https://auth.bench"
AUD = "api"
SECRET = secrets.token_bytes(32)
_COMMON = [
    (b"host", b"127.0.0.1:8000"),
    (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64) bench"),
    (b"accept", b"application/json"),
    (b"accept-encoding", b"gzip, deflate"),
    (b"accept-language", b"en"),
]


def _scope(extra: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": "/me",
        "scheme": "http",
        "query_string": b"",
        "headers": [*_COMMON, *extra],
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
    }


async def bare_app(scope: Any, receive: Any, send: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": b"ok"})


async def session_reading_app(scope: Any, receive: Any, send: Any) -> None:
    scope["session"].get("user")  # the app reads its session, as a real one would
    await bare_app(scope, receive, send)


class PyJWTBearer:
    """The bearer middleware people write by hand with PyJWT."""

    def __init__(self, app: Any, key: bytes) -> None:
        self.app = app
        self.key = key

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        import jwt

        auth = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                auth = value.decode("latin-1")
        scope["user"] = None
        if auth is not None and auth[:7].lower() == "bearer ":
            with contextlib.suppress(jwt.InvalidTokenError):
                scope["user"] = jwt.decode(
                    auth[7:], self.key, algorithms=["HS256"], audience=AUD, issuer=ISS
                )
        await self.app(scope, receive, send)


class StrategyOnly:
    """The least any middleware built on gatepass can cost: find one header, take the credential
    out of it, hand it to the strategy, put the answer on the scope. No request view, CSRF check,
    principal, refusal, endpoint or ``Vary`` handling.

    Not a way to use gatepass (it skips every web-layer defence); a floor. The web layer's own
    share of a gatepass variant is that variant minus its strategy-only twin, and a target that
    lies below the twin cannot be met by any middleware that calls the strategy at all.
    """

    def __init__(
        self,
        app: Any,
        header: bytes,
        credential: Callable[[str], str | None],
        judge: Callable[[str], Any],
    ) -> None:
        from gatepass import InvalidToken

        self.app, self.header, self.credential, self.judge = app, header, credential, judge
        self.refused = InvalidToken
        # Decided once, so that a blocking strategy's answer is not tested on every request.
        self.asynchronous = inspect.iscoroutinefunction(judge)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        found = None
        for name, value in scope["headers"]:
            if name == self.header:
                found = self.credential(value.decode("latin-1"))
        user = None
        if found is not None:
            try:
                user = await self.judge(found) if self.asynchronous else self.judge(found)
            except self.refused:  # try/except: cheaper than contextlib.suppress on this path
                user = None
        scope["user"] = user
        await self.app(scope, receive, send)


def bearer_of(value: str) -> str | None:
    return value[7:] if value[:7].lower() == "bearer " else None


def session_of(value: str) -> str | None:
    from gatepass.web.cookies import read_cookie

    return read_cookie(value, "__Host-session")


async def _collect_cookies(app: Any, count: int, name: bytes) -> list[bytes]:
    """Run ``count`` requests through a session-setting app and keep each Set-Cookie pair."""
    cookies: list[bytes] = []
    for i in range(count):
        scope = _scope([])
        scope["bench_user"] = f"user-{i}"

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                for key, value in message["headers"]:
                    if key == b"set-cookie" and value.startswith(name + b"="):
                        cookies.append(value.split(b";", 1)[0])

        await app(scope, receive, send)
    return cookies


async def _session_setter(scope: Any, receive: Any, send: Any) -> None:
    scope["session"]["user"] = scope["bench_user"]
    await bare_app(scope, receive, send)


async def asgi_variants(
    tmp: Path, sessions: int, redis_url: str | None
) -> dict[str, tuple[Any, list[dict[str, Any]]]]:
    from starlette.middleware.sessions import SessionMiddleware

    import gatepass
    from gatepass.web import Gatepass, GatepassMiddleware

    out: dict[str, tuple[Any, list[dict[str, Any]]]] = {}
    out["bare app"] = (bare_app, [_scope([])])

    starlette = SessionMiddleware(session_reading_app, secret_key="bench-secret", https_only=True)
    setter = SessionMiddleware(_session_setter, secret_key="bench-secret", https_only=True)
    cookies = await _collect_cookies(setter, min(sessions, 2000), b"session")
    out["Starlette SessionMiddleware (signed cookie)"] = (
        starlette,
        [_scope([(b"cookie", c)]) for c in cookies],
    )

    hs = gatepass.Key.from_secret(SECRET, "HS256")
    stateless = gatepass.AccessTokens(hs, issuer=ISS, audience=AUD)
    tokens = [stateless.issue(f"user-{i}").encode() for i in range(min(sessions, 2000))]
    bearer_scopes = [_scope([(b"authorization", b"Bearer " + t)]) for t in tokens]
    out["PyJWT bearer middleware (HS256)"] = (PyJWTBearer(bare_app, SECRET), bearer_scopes)
    gp = Gatepass(access_tokens=stateless, secret=SECRET)
    out["gatepass bearer HS256 (stateless)"] = (GatepassMiddleware(bare_app, gp), bearer_scopes)
    out["strategy only: bearer HS256"] = (
        StrategyOnly(bare_app, b"authorization", bearer_of, stateless.verify),
        bearer_scopes,
    )

    store = gatepass.open_store(f"sqlite:///{tmp / 'web.db'}")
    store.setup()
    plain = gatepass.Sessions(store)
    session_cookies = [
        b"__Host-session=" + plain.create(f"user-{i}")[0].encode() for i in range(sessions)
    ]
    gp = Gatepass(sessions=plain, secret=SECRET)
    sqlite_scopes = [_scope([(b"cookie", c)]) for c in session_cookies]
    out["gatepass session cookie (SQLite)"] = (GatepassMiddleware(bare_app, gp), sqlite_scopes)
    out["strategy only: session SQLite"] = (
        StrategyOnly(bare_app, b"cookie", session_of, plain.get),
        sqlite_scopes,
    )

    ring = gatepass.KeyRing(gatepass.Key.generate("ES256"))
    replicated = gatepass.AccessTokens(
        ring, issuer=ISS, audience=AUD, revocation="replicated", store=store
    )
    hybrid = [
        replicated.issue(f"user-{i}", session=f"sid{i:08d}").encode()
        for i in range(min(sessions, 2000))
    ]
    gp = Gatepass(access_tokens=replicated, secret=SECRET)
    hybrid_scopes = [_scope([(b"authorization", b"Bearer " + t)]) for t in hybrid]
    out["gatepass hybrid ES256 (replicated)"] = (GatepassMiddleware(bare_app, gp), hybrid_scopes)
    out["strategy only: hybrid ES256"] = (
        StrategyOnly(bare_app, b"authorization", bearer_of, replicated.verify),
        hybrid_scopes,
    )

    if redis_url is not None:
        from starsessions import SessionAutoloadMiddleware
        from starsessions import SessionMiddleware as StarSessions
        from starsessions.stores.redis import RedisStore

        prefix = f"gpbenchweb{secrets.token_hex(3)}"
        star_store = RedisStore(url=redis_url, prefix=f"{prefix}:star:")
        star = StarSessions(SessionAutoloadMiddleware(session_reading_app), store=star_store)
        star_setter = StarSessions(SessionAutoloadMiddleware(_session_setter), store=star_store)
        star_cookies = await _collect_cookies(star_setter, min(sessions, 2000), b"session")
        out["starsessions (Redis)"] = (star, [_scope([(b"cookie", c)]) for c in star_cookies])

        astore = gatepass.open_async_store(f"{redis_url}?prefix={prefix}:gp:")
        asessions = gatepass.AsyncSessions(astore)
        redis_cookies = [
            b"__Host-session=" + (await asessions.create(f"user-{i}"))[0].encode()
            for i in range(sessions)
        ]
        gp = Gatepass(sessions=asessions, secret=SECRET)
        redis_scopes = [_scope([(b"cookie", c)]) for c in redis_cookies]
        out["gatepass session cookie (Redis)"] = (GatepassMiddleware(bare_app, gp), redis_scopes)
        out["strategy only: session Redis"] = (
            StrategyOnly(bare_app, b"cookie", session_of, asessions.get),
            redis_scopes,
        )
    return out


def _environ(headers: dict[str, str]) -> dict[str, Any]:
    from werkzeug.test import EnvironBuilder

    builder = EnvironBuilder(
        path="/me",
        base_url="http://127.0.0.1:8000/",
        headers={
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) bench",
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
            "Accept-Language": "en",
            **headers,
        },
    )
    try:
        return builder.get_environ()
    finally:
        builder.close()


def wsgi_variants(tmp: Path, sessions: int) -> dict[str, tuple[Any, list[dict[str, Any]]]]:
    import jwt as pyjwt
    from flask import Flask, abort, g, request, session

    import gatepass
    from gatepass.web import Gatepass
    from gatepass.web.flask import GatepassFlask, current_user, login_required

    out: dict[str, tuple[Any, list[dict[str, Any]]]] = {}
    bare = Flask("bare")
    bare.add_url_rule("/me", "me", lambda: "ok")
    out["Flask bare"] = (bare.wsgi_app, [_environ({})])

    signed = Flask("signed")
    signed.secret_key = "bench-secret"

    @signed.get("/me")
    def signed_me() -> str:
        return str(session.get("user"))

    serializer = signed.session_interface.get_signing_serializer(signed)  # type: ignore[attr-defined]
    out["Flask signed-cookie session"] = (
        signed.wsgi_app,
        [
            _environ({"Cookie": f"session={serializer.dumps({'user': f'user-{i}'})}"})
            for i in range(min(sessions, 2000))
        ],
    )

    hs = gatepass.Key.from_secret(SECRET, "HS256")
    stateless = gatepass.AccessTokens(hs, issuer=ISS, audience=AUD)
    tokens = [stateless.issue(f"user-{i}") for i in range(min(sessions, 2000))]
    bearer_envs = [_environ({"Authorization": f"Bearer {t}"}) for t in tokens]

    by_hand = Flask("pyjwt")

    @by_hand.get("/me")
    def pyjwt_me() -> str:
        auth = request.headers.get("Authorization", "")
        if auth[:7].lower() != "bearer ":
            abort(401)
        try:
            claims = pyjwt.decode(auth[7:], SECRET, algorithms=["HS256"], audience=AUD, issuer=ISS)
        except pyjwt.InvalidTokenError:
            abort(401)
        return str(claims["sub"])

    out["Flask + PyJWT bearer (HS256)"] = (by_hand.wsgi_app, bearer_envs)

    def gatepass_app(name: str, gp: Gatepass) -> Any:
        app = Flask(name)
        GatepassFlask(app, gp)

        @app.get("/me")
        @login_required
        def me() -> str:
            return str(current_user.user_id)

        return app.wsgi_app

    out["Flask + gatepass bearer HS256"] = (
        gatepass_app("gpbearer", Gatepass(access_tokens=stateless, secret=SECRET)),
        bearer_envs,
    )

    store = gatepass.open_store(f"sqlite:///{tmp / 'wsgi.db'}")
    store.setup()
    plain = gatepass.Sessions(store)
    cookies = [plain.create(f"user-{i}")[0] for i in range(sessions)]
    session_envs = [_environ({"Cookie": f"__Host-session={c}"}) for c in cookies]
    out["Flask + gatepass session (SQLite)"] = (
        gatepass_app("gpsession", Gatepass(sessions=plain, secret=SECRET)),
        session_envs,
    )

    def strategy_only(name: str, header: str, credential: Any, judge: Any) -> Any:
        """The WSGI twin of :class:`StrategyOnly`: a ``before_request`` hook that only calls the
        strategy (the floor of any web layer in front of Flask)."""
        app = Flask(name)

        @app.before_request
        def judge_request() -> None:
            found = credential(request.headers.get(header, ""))
            user = None
            if found is not None:
                try:
                    user = judge(found)
                except gatepass.InvalidToken:
                    user = None
            g.user = user

        @app.get("/me")
        def me() -> str:
            if g.user is None:
                abort(401)
            return "ok"

        return app.wsgi_app

    out["Flask + strategy only: bearer HS256"] = (
        strategy_only("sobearer", "Authorization", bearer_of, stateless.verify),
        bearer_envs,
    )
    out["Flask + strategy only: session SQLite"] = (
        strategy_only("sosession", "Cookie", session_of, plain.get),
        session_envs,
    )
    return out
