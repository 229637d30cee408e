"""``@login_optional`` (Flask) means what FastAPI's ``OptionalUser`` means: anonymous is fine,
but a refused bearer token is a 401 and a store outage a 503, never "guest" (a page that greets
a guest during an outage tells a logged-in user they were logged out)."""

from __future__ import annotations

import secrets

import pytest
from flask import Flask
from gp_store_servers import RedisServer

from gatepass import AccessTokens, KeyRing, Sessions, open_store
from gatepass.web import Gatepass
from gatepass.web.flask import GatepassFlask, current_user, login_optional


def app_with(gp: Gatepass) -> Flask:
    app = Flask(__name__)
    GatepassFlask(app, gp)

    @app.get("/")
    @login_optional
    def home() -> dict[str, str | None]:
        return {"user": current_user.user_id if current_user else None}

    return app


def test_anonymous_is_none_and_a_refused_bearer_token_is_401() -> None:
    access = AccessTokens(KeyRing.generate("ES256"), issuer="urn:t", audience="t")
    client = app_with(Gatepass(access_tokens=access, secret=secrets.token_bytes(32))).test_client()
    assert client.get("/").json == {"user": None}
    token = access.issue("alice")
    assert client.get("/", headers={"Authorization": f"Bearer {token}"}).json == {"user": "alice"}
    refused = client.get("/", headers={"Authorization": f"Bearer {token[:-4]}AAAA"})
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


@pytest.mark.redis
def test_a_store_outage_is_503_not_anonymous(private_redis: RedisServer) -> None:
    store = open_store(private_redis.url)
    store.setup()
    sessions = Sessions(store)
    token, _ = sessions.create("alice")
    client = app_with(Gatepass(sessions=sessions, secret=secrets.token_bytes(32))).test_client()
    client.set_cookie("__Host-session", token)
    assert client.get("/").json == {"user": "alice"}
    private_redis.kill()
    try:
        response = client.get("/")
        assert response.status_code == 503
        assert response.json["code"] == "ERR_STORE_UNAVAILABLE"
    finally:
        store.close()
