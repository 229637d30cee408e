"""Every configuration ``gatepass advise`` prints runs, as printed, against a real Redis, and
the app it builds does what the advice says.

What the test supplies is what the reader supplies: their password check (``check_password``),
the ``GATEPASS_SECRET`` and ``REFRESH_SECRET`` environment variables, and the key file the
printed ``gatepass keygen`` command makes. The printed Redis URL is pointed at the test database
(db 15, a private key prefix), or at a fresh SQLite file (the alternative the snippet names, and
the one where a missing ``store.setup()`` shows), and the printed JWKS URL at a loopback server
publishing the key: the only substitutions, all of addresses. Then the app is driven in process
(FastAPI through its lifespan and httpx's ASGI transport, Flask through the WSGI transport): a
login, the protected route, a refresh where the design has one, a logout, and a refusal after it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import shlex
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from gatepass import Key, KeySet
from gatepass.cli.advice import ARCHITECTURES, NEEDS, recommend
from gatepass.cli.advice_config import FRAMEWORKS
from gatepass.cli.main import main
from gp_testkit import DocumentServer, document_server, drop_redis_prefix

PRINTED_STORE = "redis://127.0.0.1:6379/0"
PRINTED_JWKS = "https://auth.example.com/.well-known/jwks.json"
PASSWORD = "correct horse battery staple"
BASE = "https://testserver"

COMBINATIONS = [
    (arch, dict(zip(NEEDS, flags, strict=True)))
    for arch in ARCHITECTURES
    for flags in itertools.product((False, True), repeat=len(NEEDS))
]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The directory the reader works in, with the secrets their deployment provides."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REFRESH_SECRET", secrets.token_hex(32))
    monkeypatch.setenv("GATEPASS_SECRET", secrets.token_hex(32))
    return tmp_path


@pytest.fixture
def jwks_server() -> Iterator[DocumentServer]:
    with document_server() as server:
        yield server


def check_password(username: str, password: str) -> str | None:
    """The reader's password check, as the printed configuration expects it."""
    return "user-42" if (username, password) == ("alice", PASSWORD) else None


class Client:
    """One app behind its in-process transport, spoken to the same way whatever the framework:
    a FastAPI app runs inside its lifespan (the store's setup), a Flask app as it is."""

    def __init__(self, client: httpx.AsyncClient | httpx.Client) -> None:
        self.client = client

    async def send(self, method: str, path: str, **options: Any) -> httpx.Response:
        response = self.client.request(method, path, **options)
        if isinstance(response, httpx.Response):
            return response
        return await response


@asynccontextmanager
async def serving(app: Any, framework: str) -> AsyncIterator[Client]:
    if framework == "flask":
        with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=BASE) as sync:
            yield Client(sync)
        return
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            yield Client(client)


def _browser_headers(needs: dict[str, bool], csrf: str | None = None) -> dict[str, str]:
    """What the page's browser sends with an unsafe request: the same origin, or (cross-site
    mode) the SPA's trusted origin with the CSRF token gatepass gave it."""
    if not needs["cross_domain"]:
        return {"sec-fetch-site": "same-origin"}
    assert csrf is not None
    return {"sec-fetch-site": "cross-site", "origin": "https://app.example.com",
            "x-csrf-token": csrf}  # fmt: skip


async def drive(design: str, needs: dict[str, bool], framework: str, ns: dict[str, Any]) -> None:
    """Use the app the printed configuration built, as its users would."""
    async with AsyncExitStack() as stack:
        app = await stack.enter_async_context(serving(ns["app"], framework))
        me = "/me"
        if design == "sessions":
            form: dict[str, Any] = {"username": "alice", "password": PASSWORD}
            if needs["remember_me"]:
                form["remember"] = True
            login = await app.send(
                "POST", "/auth/login", json=form, headers=_browser_headers(needs)
            )
            assert login.status_code == 200, login.text
            assert (await app.send("GET", me)).json() == {"user": "user-42"}
            out = await app.send("POST", "/auth/logout", headers=_browser_headers(needs))
            assert out.status_code == 200
            assert (await app.send("GET", me)).status_code == 401
        elif design == "hybrid":
            seed = (await app.send("GET", "/auth/csrf")).json()["csrf_token"]
            body = {"username": "alice", "password": PASSWORD}
            login = await app.send(
                "POST", "/auth/login", json=body, headers=_browser_headers(needs, seed)
            )
            assert login.status_code == 200, login.text
            bearer = {"authorization": f"Bearer {login.json()['access_token']}"}
            assert (await app.send("GET", me, headers=bearer)).json() == {"user": "user-42"}
            csrf = login.json()["csrf_token"]
            renewed = await app.send("POST", "/auth/refresh", headers=_browser_headers(needs, csrf))
            assert renewed.status_code == 200, renewed.text
            bearer = {"authorization": f"Bearer {renewed.json()['access_token']}"}
            assert (await app.send("GET", me, headers=bearer)).json() == {"user": "user-42"}
            assert (await app.send("POST", "/auth/logout", headers=bearer)).status_code == 200
            again = await app.send("POST", "/auth/refresh", headers=_browser_headers(needs, csrf))
            assert again.status_code in (401, 403)
        elif design == "jwt-jwks":
            auth = await stack.enter_async_context(serving(ns["auth_app"], framework))
            body = {"username": "alice", "password": PASSWORD}
            login = await auth.send("POST", "/auth/login", json=body)
            assert login.status_code == 200, login.text
            bearer = {"authorization": f"Bearer {login.json()['access_token']}"}
            assert (await app.send("GET", me, headers=bearer)).json() == {"user": "user-42"}
            assert (await app.send("GET", me)).status_code == 401
            forged = {"authorization": f"Bearer {login.json()['access_token']}x"}
            assert (await app.send("GET", me, headers=forged)).status_code == 401
        else:
            body = {"username": "alice", "password": PASSWORD}
            pair = (await app.send("POST", "/token", json=body)).json()
            bearer = {"authorization": f"Bearer {pair['access_token']}"}
            assert (await app.send("GET", me, headers=bearer)).json() == {"user": "user-42"}
            old = {"refresh_token": pair["refresh_token"]}
            renewed = await app.send("POST", "/token/refresh", json=old)
            assert renewed.status_code == 200, renewed.text
            new = {"refresh_token": renewed.json()["refresh_token"]}
            assert (await app.send("POST", "/token/logout", json=new)).status_code == 200
            assert (await app.send("POST", "/token/refresh", json=new)).status_code == 401
            wrong = {"username": "alice", "password": "guess"}
            assert (await app.send("POST", "/token", json=wrong)).status_code == 401


#: Every architecture and combination of needs on both backends for FastAPI (the default), and
#: on SQLite for Flask: the store code is the same, the framework glue is what differs.
RUNS = [
    pytest.param(arch, needs, backend, framework, id=f"{framework}-{backend}-{arch}-"
                 f"{'-'.join(n for n, on in needs.items() if on) or 'plain'}")
    for framework in FRAMEWORKS
    for backend in (("redis", "sqlite") if framework == "fastapi" else ("sqlite",))
    for arch, needs in COMBINATIONS
]  # fmt: skip


@pytest.mark.parametrize(("arch", "needs", "backend", "framework"), RUNS)
def test_printed_configuration_runs(
    *,
    arch: str,
    needs: dict[str, bool],
    backend: str,
    framework: str,
    workdir: Path,
    request: pytest.FixtureRequest,
) -> None:
    advice = recommend(arch, needs, framework)
    jwks_server = request.getfixturevalue("jwks_server")
    for command in advice.commands:  # the key commands it prints, run as printed
        words = shlex.split(command.split(">")[0])
        assert words[0] == "gatepass"
        assert main(words[1:]) == 0, command
    if "signing.key.pem" in advice.config:
        assert (workdir / "signing.key.pem").exists(), "the config reads a file no command made"
        key = Key.from_pem((workdir / "signing.key.pem").read_bytes())
        jwks_server.body = json.dumps(KeySet([key.public()]).to_jwks()).encode()
    if backend == "redis":
        store_url = (
            f"{request.getfixturevalue('redis_url')}?prefix=gpadvise:{secrets.token_hex(4)}:"
        )
    else:
        store_url = f"sqlite:///{workdir}/auth.db"
    config = advice.config
    assert PRINTED_STORE in config
    config = config.replace(PRINTED_STORE, store_url)
    config = config.replace(PRINTED_JWKS, jwks_server.url)
    # The reader's module (app.py) with their password check in it.
    namespace: dict[str, Any] = {"__name__": "app", "check_password": check_password}
    try:
        exec(compile(config, f"gatepass advise --arch {arch}", "exec"), namespace)
        asyncio.run(drive(advice.design, needs, framework, namespace))
    finally:
        if framework == "flask":  # FastAPI's lifespan closed what it opened
            for name in ("verifier", "access"):
                if name in namespace:
                    namespace[name].close()
            if "store" in namespace:
                namespace["store"].close()
        if backend == "redis":
            drop_redis_prefix(store_url)
