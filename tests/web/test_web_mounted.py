"""An app mounted under a path (ASGI ``root_path``, WSGI ``SCRIPT_NAME``): the endpoints live
under the mount, the refresh cookie is scoped to the mounted refresh path (else the browser
never sends it back), and a refused redirect target falls back to the app's root, not the
site's. Every request below goes to ``/app/...`` as the browser sees it."""

from __future__ import annotations

import pytest
from webapps import APPS
from webclient import Expect, Step, run
from webdesigns import serving
from webtable import ALICE, ALICE_HYBRID, ALICE_SESSION, OK

MOUNTED_REFRESH = ("Secure", "HttpOnly", "SameSite=Strict", "Path=/app/auth/refresh")

SESSION_STEPS = (
    Step("POST /auth/login", Expect(303, headers={"location": "/app/home"}, cookies={"session":
         "set"}, flags={"session": ("Path=/",)}), form={**ALICE, "next": "/app/home"}),
    Step("GET /me", ALICE_SESSION),
    Step("POST /auth/login", Expect(303, headers={"location": "/app/"}), form={
         **ALICE, "next": "//evil.example/"}),
    Step("POST /auth/login", Expect(303, headers={"location": "/app/?error=login"}), form={
         "username": "alice", "password": "nope", "fail": "https://evil.example/"}),
    Step("GET /auth/nothing", Expect(404, "ERR_NOT_FOUND")),
    Step("POST /auth/logout", Expect(303, headers={"location": "/app/"}, cookies={"session":
         "cleared"}), form={"next": "javascript:alert(1)"}),
    Step("GET /probe", Expect(200, json={"user": None})),
)  # fmt: skip

HYBRID_STEPS = (
    Step("POST /auth/login", Expect(200, cookies={"refresh": "set"}, flags={
         "refresh": MOUNTED_REFRESH}), json=ALICE),
    Step("GET /me", ALICE_HYBRID, bearer="access"),
    Step("POST /auth/refresh", Expect(200, flags={"refresh": MOUNTED_REFRESH})),
    Step("GET /me", ALICE_HYBRID, bearer="access"),
    Step("POST /auth/logout", Expect(200, cookies={"refresh": "cleared"}, flags={
         "refresh": ("Path=/app/auth/refresh",)}), bearer="access"),
    Step("POST /auth/refresh", Expect(401, "ERR_UNAUTHENTICATED")),  # the browser dropped it
    Step("GET /.well-known/jwks.json", OK),
)  # fmt: skip


@pytest.mark.parametrize("app", APPS)
@pytest.mark.parametrize(
    ("design", "steps"), [("session", SESSION_STEPS), ("hybrid", HYBRID_STEPS)]
)
async def test_mounted_app(app: str, design: str, steps: tuple[Step, ...], sqlite_url: str) -> None:
    async with serving(app, design, sqlite_url, mount="/app") as target:
        await run(target, steps, f"mounted {design}")
