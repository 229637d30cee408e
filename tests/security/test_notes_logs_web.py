"""Security note 12 in the web layer: its log lines and the log id, driven by real requests.

Every record of the ``gatepass`` logger tree is captured at DEBUG while a FastAPI app (in process
and under a real uvicorn) and a Flask app answer valid, invalid, expired, revoked and reused
credentials, forged cross-site requests and a store that cannot be reached. No record may hold a
token, a session token, a refresh token or a cookie value, in its message, arguments, extra
fields or exception text; the refusals must be logged with the log id of the credential that
came, the same id for the same credential (also across two apps sharing the secret), another id
for another credential or under another secret; accepted credentials log nothing.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from flask import Flask
from flask import request as flask_request
from secnotes_kit import secret_parts

from gatepass import AccessTokens, KeyRing, RefreshTokens, Sessions
from gatepass.stores import open_store
from gatepass.strategies.refresh import family_of
from gatepass.web import Gatepass
from gatepass.web.audit import LogIds
from gatepass.web.fastapi import CurrentUser, install
from gatepass.web.flask import GatepassFlask, current_user, login_required
from gatepass.web.principal import AuthState
from gp_testkit import FakeClock, uvicorn_serving

SECRET = b"note-12-web-secret-0123456789abcdef!"
OTHER_SECRET = b"another-app-secret-0123456789abcdef!"
PASSWORD = "correct horse battery staple"
SAME = {"sec-fetch-site": "same-origin", "origin": "https://testserver"}
CROSS = {"sec-fetch-site": "cross-site", "origin": "https://evil.example"}
DOWN_URL = "redis://127.0.0.1:1/0?socket_connect_timeout=0.3"


def check_password(username: str, password: str) -> str | None:
    return "alice" if (username, password) == ("alice", PASSWORD) else None


def gatepass_on(store: Any, clock: FakeClock, ring: KeyRing) -> Gatepass:
    """Session cookies, the hybrid and its denylist access tokens, in one app."""
    access = AccessTokens(
        ring, issuer="https://testserver", audience="api", revocation="denylist", store=store,
        clock=clock,
    )  # fmt: skip
    refresh = RefreshTokens(store, access, secret=b"r" * 32, clock=clock, grace=0)
    return Gatepass(
        sessions=Sessions(store, clock=clock),
        refresh_tokens=refresh,
        check_password=check_password,
        secret=SECRET,
    )


def fastapi_app(gp: Gatepass) -> FastAPI:
    app = FastAPI()
    install(app, gp)

    @app.get("/me")
    async def me(user: CurrentUser, request: Request) -> Any:
        return {"user": user.user_id, "log_id": request.scope["gatepass"].log_id}

    @app.post("/me")
    async def me_post(user: CurrentUser) -> Any:
        return {"user": user.user_id}

    return app


def flask_app(gp: Gatepass) -> Flask:
    app = Flask("note12")
    GatepassFlask(app, gp)

    @app.get("/me")
    @login_required
    def me() -> Any:
        return {"user": current_user.user_id, "log_id": flask_request.environ["gatepass"].log_id}

    @app.post("/me")
    @login_required
    def me_post() -> Any:
        return {"user": current_user.user_id}

    return app


Send = Callable[..., httpx.Response]


@contextmanager
def _sync_client(kind: str, gp: Gatepass) -> Iterator[httpx.Client]:
    if kind == "flask":
        transport = httpx.WSGITransport(app=flask_app(gp))
        with httpx.Client(transport=transport, base_url="https://testserver") as client:
            yield client
    else:
        with uvicorn_serving(fastapi_app(gp)) as base, httpx.Client(base_url=base) as client:
            yield client


@contextmanager
def client_for(kind: str, gp: Gatepass) -> Iterator[Send]:
    """``send(method, path, headers=..., json=...)`` against ``gp``'s app: FastAPI in process,
    Flask in process, or FastAPI under uvicorn over loopback TCP."""
    if kind in ("flask", "uvicorn"):
        with _sync_client(kind, gp) as client:

            def send_sync(method: str, path: str, **options: Any) -> httpx.Response:
                client.cookies.clear()  # each request carries exactly the cookies it names
                return client.request(method, path, **options)

            yield send_sync
    else:
        app = fastapi_app(gp)

        def send(method: str, path: str, **options: Any) -> httpx.Response:
            async def once() -> httpx.Response:
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="https://testserver"
                ) as client:
                    return await client.request(method, path, **options)

            return asyncio.run(once())

        yield send


class Captured(logging.Handler):
    """Every record of the ``gatepass`` tree, and all the text each could put in a log. Every
    record must be one of the web layer's lines (a stray one fails :meth:`lines`)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.taken = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        parts = []
        for record in self.records:
            parts += [record.getMessage(), repr(record.msg), repr(record.args)]
            parts.append(repr(vars(record)))
            if record.exc_info and record.exc_info[1] is not None:
                parts.append("".join(traceback.format_exception(record.exc_info[1])))
            parts += [record.exc_text or "", record.stack_info or ""]
        return "\n".join(parts)

    def lines(self) -> list[tuple[str, str, str, str, str]]:
        """(level, event, design, code, log id) of each web-layer line since the last take."""
        return [
            (
                r.levelname,
                r.gatepass_event,  # type: ignore[attr-defined]
                r.gatepass_design,  # type: ignore[attr-defined]
                r.gatepass_code,  # type: ignore[attr-defined]
                r.gatepass_log_id,  # type: ignore[attr-defined]
            )
            for r in self.records[self.taken :]
        ]

    def take(self) -> list[tuple[str, str, str, str, str]]:
        lines = self.lines()
        self.taken = len(self.records)
        return lines


@pytest.fixture
def captured() -> Iterator[Captured]:
    handler = Captured()
    logger = logging.getLogger("gatepass")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@dataclass
class Seen:
    """Every credential the scenario handled: none may reach a log."""

    opaque: list[str]
    jwts: list[str]
    others: list[str]

    def assert_absent_from(self, text: str) -> None:
        for value in self.opaque + self.jwts + self.others:
            assert value not in text
        for token in self.opaque:
            for part in secret_parts(token):
                assert part not in text, part
        for token in self.jwts:
            _, payload, signature = token.split(".")
            assert payload not in text and signature[:16] not in text


def cookie_of(response: httpx.Response, name: str) -> str:
    for header in response.headers.get_list("set-cookie"):
        pair = header.split(";", 1)[0]
        if pair.startswith(f"{name}="):
            return pair.split("=", 1)[1]
    raise AssertionError(f"no {name} cookie in {response.headers.get_list('set-cookie')}")


def log_in(send: Send, gp: Gatepass, design: str) -> tuple[str, str | None]:
    """(session token, None) or (access token, refresh token) of a fresh login of alice."""
    body = {"username": "alice", "password": PASSWORD, "design": design}
    response = send("POST", "/auth/login", headers=SAME, json=body)
    assert response.status_code == 200, response.text
    if design == "session":
        return cookie_of(response, gp.cookies.session_name), None
    return response.json()["access_token"], cookie_of(response, gp.cookies.refresh_name)


@pytest.mark.parametrize("kind", ["fastapi", "flask", "uvicorn"])
def test_web_layer_logs_refusals_with_log_ids_and_never_a_credential(
    kind: str, captured: Captured, tmp_path: Path
) -> None:
    clock = FakeClock(time.time())
    ring = KeyRing.generate("ES256", clock=clock)
    store = open_store(f"sqlite:///{tmp_path / 'note12.db'}")
    store.setup()
    down = open_store(DOWN_URL)
    gp, gp_down = gatepass_on(store, clock, ring), gatepass_on(down, clock, ring)
    ids = gp.log_ids.of
    session_name, refresh_name = gp.cookies.session_name, gp.cookies.refresh_name

    def bearer(token: str) -> dict[str, str]:
        return {"authorization": f"Bearer {token}"}

    def cookie(name: str, value: str) -> dict[str, str]:
        if name == refresh_name:  # as a browser sends it: beside its companion
            return {"cookie": f"{name}={value}; {gp.cookies.family_name()}={family_of(value)}"}
        return {"cookie": f"{name}={value}"}

    try:
        with client_for(kind, gp) as send, client_for(kind, gp_down) as send_down:
            s1, _ = log_in(send, gp, "session")
            a1, r1 = log_in(send, gp, "hybrid")
            assert r1 is not None

            # Accepted credentials: nothing is logged; the app sees their log ids.
            me = send("GET", "/me", headers=cookie(session_name, s1))
            assert me.json() == {"user": "alice", "log_id": ids(s1)}
            me = send("GET", "/me", headers=bearer(a1))
            assert me.json() == {"user": "alice", "log_id": ids(a1)}
            assert captured.take() == []

            # Invalid: a forged signature, twice (one stolen-looking token, one id); an opaque
            # session token pushed through the bearer door.
            head, payload, signature = a1.split(".")
            raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
            raw[0] ^= 1
            flipped = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
            forged = f"{head}.{payload}.{flipped}"
            for _ in range(2):
                assert send("GET", "/me", headers=bearer(forged)).status_code == 401
            assert send("GET", "/me", headers=bearer(s1)).status_code == 401
            bad_sig = "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"
            assert captured.take() == [
                ("INFO", "credential refused", "bearer", bad_sig, ids(forged)),
                ("INFO", "credential refused", "bearer", bad_sig, ids(forged)),
                ("INFO", "credential refused", "bearer", "ERR_JWS_MALFORMED", ids(s1)),
            ]

            # Cross-site requests: a forged POST with the session cookie, a refresh without
            # fetch metadata or token, a cross-site logout carrying nothing.
            post = send("POST", "/me", headers={**CROSS, **cookie(session_name, s1)})
            assert post.status_code == 403
            refresh = send("POST", "/auth/refresh", headers=cookie(refresh_name, r1))
            assert refresh.status_code == 403
            assert send("POST", "/auth/logout", headers=CROSS).status_code == 403
            # The refresh endpoint judges the refresh cookie, also beside a session cookie.
            both = {"cookie": f"{cookie(refresh_name, r1)['cookie']}; {session_name}={s1}"}
            assert send("POST", "/auth/refresh", headers=both).status_code == 403
            assert [line[:4] for line in captured.lines()] == [
                ("WARNING", "cross-site request refused", "session", "ERR_CSRF"),
                ("WARNING", "cross-site request refused", "hybrid", "ERR_CSRF"),
                ("WARNING", "cross-site request refused", "-", "ERR_CSRF"),
                ("WARNING", "cross-site request refused", "hybrid", "ERR_CSRF"),
            ]
            assert [line[4] for line in captured.take()] == [ids(s1), ids(r1), "-", ids(r1)]

            # Reuse: r1 rotates once, then comes again (a thief's copy): the family is revoked,
            # so the access token the rotation gave is refused too.
            rotated = send("POST", "/auth/refresh", headers={**SAME, **cookie(refresh_name, r1)})
            assert rotated.status_code == 200
            r2, a2 = cookie_of(rotated, refresh_name), rotated.json()["access_token"]
            replay = send("POST", "/auth/refresh", headers={**SAME, **cookie(refresh_name, r1)})
            assert replay.status_code == 401
            assert send("GET", "/me", headers=bearer(a2)).status_code == 401
            assert captured.take() == [
                ("WARNING", "credential refused", "hybrid", "ERR_REFRESH_TOKEN_REUSED", ids(r1)),
                ("INFO", "credential refused", "bearer", "ERR_TOKEN_REVOKED", ids(a2)),
            ]

            # Revoked: a session logged out, then its cookie used again (twice, one id).
            out = send("POST", "/auth/logout", headers={**SAME, **cookie(session_name, s1)})
            assert out.status_code == 200
            for _ in range(2):
                assert send("GET", "/me", headers=cookie(session_name, s1)).status_code == 401
            gone = ("INFO", "credential refused", "session", "ERR_INVALID_TOKEN", ids(s1))
            assert captured.take() == [gone, gone]

            # Expired: an hour later the session idled out and the access token expired (the
            # access token's expiry is routine for a client that refreshes: DEBUG).
            s3, _ = log_in(send, gp, "session")
            a3, r3 = log_in(send, gp, "hybrid")
            assert r3 is not None
            clock.advance(3600)
            assert send("GET", "/me", headers=cookie(session_name, s3)).status_code == 401
            assert send("GET", "/me", headers=bearer(a3)).status_code == 401
            assert captured.take() == [
                ("INFO", "credential refused", "session", "ERR_INVALID_TOKEN", ids(s3)),
                ("DEBUG", "credential refused", "bearer", "ERR_JWT_EXPIRED", ids(a3)),
            ]

            # The store is down (nothing listens): 503s, logged as errors with the same ids the
            # working app gives the same credentials (the two share the secret).
            s4, _ = log_in(send, gp, "session")
            a4, r4 = log_in(send, gp, "hybrid")
            assert r4 is not None
            assert send_down("GET", "/me", headers=cookie(session_name, s4)).status_code == 503
            assert send_down("GET", "/me", headers=bearer(a4)).status_code == 503
            headers = {**SAME, **cookie(refresh_name, r4)}
            assert send_down("POST", "/auth/refresh", headers=headers).status_code == 503
            body = {"username": "alice", "password": PASSWORD}
            assert send_down("POST", "/auth/login", headers=SAME, json=body).status_code == 503
            down_code = "ERR_STORE_UNAVAILABLE"
            assert captured.take() == [
                ("ERROR", "store unavailable", "session", down_code, ids(s4)),
                ("ERROR", "store unavailable", "bearer", down_code, ids(a4)),
                ("ERROR", "store unavailable", "hybrid", down_code, ids(r4)),
                ("ERROR", "store unavailable", "-", down_code, "-"),
            ]
            assert gp_down.log_ids.of(s4) == ids(s4)
    finally:
        store.close()
        down.close()

    # One id per credential, another under another secret, never the credential itself.
    credentials = [s1, s3, s4, a1, a2, a3, a4, forged, r1, r2, r3, r4]
    assert len({ids(c) for c in credentials}) == len(credentials)
    other = LogIds(OTHER_SECRET)
    assert all(other.of(c) != ids(c) for c in credentials)
    assert all(len(ids(c)) == 12 for c in credentials)
    seen = Seen(opaque=[s1, s3, s4, r1, r2, r3, r4], jwts=[a1, a2, a3, a4, forged], others=[])
    seen.assert_absent_from(captured.text())


def test_auth_state_repr_leaves_the_credential_out(tmp_path: Path) -> None:
    """An app that logs the whole state (``logger.debug("%r", scope["gatepass"])``) logs its
    log id at most, never the credential kept for it."""
    store = open_store(f"sqlite:///{tmp_path / 'repr.db'}")
    gp = Gatepass(sessions=Sessions(store), secret=SECRET)
    token = "h24_.SR-iXnQbKpv_NT4gcvv-6Flw_-EATjyPmww2J62Htew"
    state = AuthState(gp, credential=token)
    assert token not in repr(state) and "SR-iXnQb" not in repr(state)
    assert state.log_id == gp.log_ids.of(token) and len(state.log_id) == 12
    assert AuthState(gp).log_id is None
    store.close()
