"""DPoP on paths with percent-encoded characters, over real servers (uvicorn, waitress).

The client signs the URL it sends (``/files/caf%C3%A9%20menu``: a browser's ``fetch`` encodes
the same way); servers hand the app that path decoded (``/files/café menu``). The web layer must
compare the proof with the path as it came on the wire, or every DPoP request to such a path is
refused. Paths with ``%2F`` inside a segment and encoded unreserved characters (``%7E``) are the
cases a decoded path gets wrong in both directions.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from flask import Flask
from gp_web_servers import uvicorn_serving, waitress_serving
from werkzeug.middleware.proxy_fix import ProxyFix

from gatepass import AccessTokens, Key
from gatepass.tokens import dpop
from gatepass.web import DPoPPolicy, Gatepass
from gatepass.web.fastapi import DPoPUser, install
from gatepass.web.flask import GatepassFlask, current_user, login_required
from gatepass.web.http import target_of

SECRET = b"p" * 32
ISS, AUD = "https://auth.example", "api"


def _fastapi(gp: Gatepass) -> Any:
    app = FastAPI()
    install(app, gp)

    @app.get("/files/{name:path}")
    async def read(name: str, user: DPoPUser) -> dict[str, str]:
        return {"name": name, "user": user.user_id}

    return app


def _flask(gp: Gatepass) -> Any:
    app = Flask("paths")
    GatepassFlask(app, gp)

    @app.get("/files/<path:name>")
    @login_required(dpop=True)
    def read(name: str) -> dict[str, str]:
        return {"name": name, "user": current_user.user_id}

    return app


SERVERS = {"uvicorn": (_fastapi, uvicorn_serving), "waitress": (_flask, waitress_serving)}
PATHS = {
    "utf-8 and space": ("/files/caf%C3%A9%20menu", "café menu"),
    "encoded slash": ("/files/a%2Fb", "a/b"),
    "encoded unreserved": ("/files/%7Ealice", "~alice"),
}


@pytest.fixture(params=sorted(SERVERS))
def served(request: pytest.FixtureRequest) -> Any:
    make_app, serving = SERVERS[request.param]
    access = AccessTokens(Key.generate("ES256"), issuer=ISS, audience=AUD)
    gp = Gatepass(access_tokens=access, secret=SECRET, dpop=DPoPPolicy())
    with serving(make_app(gp)) as base:
        yield request.param, base, access


def _send(
    base: str, path: str, signed_path: str, access: AccessTokens, **headers: str
) -> httpx.Response:
    client_key = Key.generate("ES256")
    token = access.issue("alice", jkt=client_key.thumbprint())
    proof = dpop.create_proof(client_key, method="GET", url=base + signed_path, access_token=token)
    # httpx would re-encode some paths: send the exact target bytes.
    url = httpx.URL(base).copy_with(raw_path=path.encode("ascii"))
    headers.update({"Authorization": f"DPoP {token}", "DPoP": proof})
    return httpx.get(url, headers=headers, timeout=10)


@pytest.mark.parametrize("case", sorted(PATHS))
def test_a_proof_for_the_encoded_path_is_accepted(served: Any, case: str) -> None:
    _server, base, access = served
    path, name = PATHS[case]
    response = _send(base, path, path, access)
    assert response.status_code == 200, response.text
    assert response.json() == {"name": name, "user": "alice"}


def test_a_proof_for_another_encoded_path_is_refused(served: Any) -> None:
    _server, base, access = served
    response = _send(base, "/files/caf%C3%A9%20menu", "/files/caf%C3%A9%20men", access)
    assert response.status_code == 401
    assert 'error="invalid_dpop_proof"' in response.headers["www-authenticate"]


def test_a_proof_for_the_decoded_spelling_is_refused(served: Any) -> None:
    """``%2F`` and ``/`` route alike here, yet they name different URLs: a proof for one does
    not open the other (RFC 3986 6.2.2 never decodes a reserved character)."""
    _server, base, access = served
    response = _send(base, "/files/a%2Fb", "/files/a/b", access)
    assert response.status_code == 401
    response = _send(base, "/files/a/b", "/files/a%2Fb", access)
    assert response.status_code == 401


def test_behind_a_proxy_that_strips_a_prefix() -> None:
    """nginx serves the app at ``/api`` and strips it; werkzeug's ``ProxyFix`` tells the app
    (``SCRIPT_NAME``), while waitress's ``REQUEST_URI`` still names the stripped path. The proof
    names the URL the client addressed, with the prefix."""
    access = AccessTokens(Key.generate("ES256"), issuer=ISS, audience=AUD)
    gp = Gatepass(access_tokens=access, secret=SECRET, dpop=DPoPPolicy())
    app = _flask(gp)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_prefix=1)  # type: ignore[method-assign]
    with waitress_serving(app) as base:
        prefixed = {"X-Forwarded-Prefix": "/api"}
        response = _send(base, "/files/caf%C3%A9", "/api/files/caf%C3%A9", access, **prefixed)
        assert response.status_code == 200, response.text
        assert response.json() == {"name": "café", "user": "alice"}
        response = _send(base, "/files/caf%C3%A9", "/files/caf%C3%A9", access, **prefixed)
        assert response.status_code == 401


def test_behind_a_proxy_that_strips_a_prefix_asgi() -> None:
    """The same with uvicorn told the prefix (``--root-path /api``): ``root_path`` and
    ``raw_path`` both carry it, and the proof names the URL with the prefix."""
    access = AccessTokens(Key.generate("ES256"), issuer=ISS, audience=AUD)
    gp = Gatepass(access_tokens=access, secret=SECRET, dpop=DPoPPolicy())
    with uvicorn_serving(_fastapi(gp), root_path="/api") as base:
        response = _send(base, "/files/caf%C3%A9", "/api/files/caf%C3%A9", access)
        assert response.status_code == 200, response.text
        assert response.json() == {"name": "café", "user": "alice"}
        assert _send(base, "/files/caf%C3%A9", "/files/caf%C3%A9", access).status_code == 401


def test_target_without_the_raw_request_line() -> None:
    """A server that keeps no raw target: the decoded path is encoded again, from the bytes the
    server decoded (UTF-8 for ASGI, latin-1 text of the raw bytes for WSGI)."""
    assert target_of(None, "/files/café menu", "utf-8") == "/files/caf%C3%A9%20menu"
    assert target_of(None, "/files/caf\xc3\xa9 menu", "latin-1") == "/files/caf%C3%A9%20menu"
    assert target_of(None, "/a;b=c/~x@y:z", "utf-8") == "/a;b=c/~x@y:z"
    assert target_of("/files/a%2Fb?x=1", "/files/a/b", "utf-8") == "/files/a%2Fb"
    # A raw target that names another path than the app was given (a stripped prefix): fall back.
    assert target_of("/files/x", "/api/files/x", "latin-1") == "/api/files/x"
    # An absolute-form request target (sent to proxies) is not a path: fall back.
    assert target_of("http://h/files/x", "/files/x", "utf-8") == "/files/x"
    assert target_of(b"/files/caf%C3%A9?q", "/files/caf\u00e9", "utf-8") == "/files/caf%C3%A9"
    # Text no server should hand over still gives a URL (which no honest proof names).
    assert target_of(None, "/a\ud800b", "utf-8") == "/a%3Fb"
    assert target_of(None, "/a\u20acb", "latin-1") == "/a%3Fb"
