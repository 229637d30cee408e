"""``DPoPPolicy(origin=...)`` with a path prefix, over real servers (uvicorn, waitress).

A proxy serves the app at ``https://app.example/api`` and strips ``/api`` without telling the
app (no ``X-Forwarded-Prefix``, no ``root_path``): the app sees ``/files/x`` on
``http://127.0.0.1:port``, while the client signed ``https://app.example/api/files/x``. The
configured public base URL carries the prefix, and the raw request target the server kept
follows it, so even a ``%2F`` path verifies. A prefix the app *is* told (``--root-path``) is
part of the target already and composes with the configured one.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from gp_web_servers import uvicorn_serving, waitress_serving
from test_web_dpop_paths import _fastapi, _flask

from gatepass import AccessTokens, Key
from gatepass.errors import ConfigurationError
from gatepass.tokens import dpop
from gatepass.web import DPoPPolicy, Gatepass

SECRET = b"o" * 32
ISS, AUD = "https://auth.example", "api"
PUBLIC = "https://app.example/api"
SERVERS = {"uvicorn": (_fastapi, uvicorn_serving), "waitress": (_flask, waitress_serving)}


def _gatepass(origin: str) -> tuple[Gatepass, AccessTokens]:
    access = AccessTokens(Key.generate("ES256"), issuer=ISS, audience=AUD)
    return Gatepass(access_tokens=access, secret=SECRET, dpop=DPoPPolicy(origin=origin)), access


def _send(base: str, path: str, signed_url: str, access: AccessTokens) -> httpx.Response:
    """GET ``base`` + ``path`` (the exact target bytes) with a proof made for ``signed_url``."""
    client_key = Key.generate("ES256")
    token = access.issue("alice", jkt=client_key.thumbprint())
    proof = dpop.create_proof(client_key, method="GET", url=signed_url, access_token=token)
    url = httpx.URL(base).copy_with(raw_path=path.encode("ascii"))
    headers = {"Authorization": f"DPoP {token}", "DPoP": proof, "Host": "app.example"}
    return httpx.get(url, headers=headers, timeout=10)


@pytest.fixture(params=sorted(SERVERS))
def served(request: pytest.FixtureRequest) -> Any:
    make_app, serving = SERVERS[request.param]
    gp, access = _gatepass(PUBLIC)
    with serving(make_app(gp)) as base:
        yield base, access


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/files/caf%C3%A9%20menu", "café menu"),
        ("/files/a%2Fb", "a/b"),
        ("/files/%7Ealice", "~alice"),
    ],
)
def test_the_prefix_of_the_public_base_goes_in_front(served: Any, path: str, name: str) -> None:
    base, access = served
    response = _send(base, path, PUBLIC + path, access)
    assert response.status_code == 200, response.text
    assert response.json() == {"name": name, "user": "alice"}


@pytest.mark.parametrize(
    "signed",
    [
        "https://app.example/files/x",  # without the prefix
        "https://app.example/api/api/files/x",  # the prefix twice
        "https://app.example/apifiles/x",  # the prefix glued to the path
        "http://app.example/api/files/x",  # the scheme the app sees
    ],
)
def test_a_proof_for_another_base_is_refused(served: Any, signed: str) -> None:
    base, access = served
    response = _send(base, "/files/x", signed, access)
    assert response.status_code == 401
    assert 'error="invalid_dpop_proof"' in response.headers["www-authenticate"]


def test_the_servers_own_url_is_refused(served: Any) -> None:
    base, access = served
    assert _send(base, "/files/x", base + "/files/x", access).status_code == 401


def test_a_prefix_the_app_is_told_composes_with_the_configured_one() -> None:
    """The outer proxy strips ``/api`` silently, an inner one strips ``/v1`` and tells uvicorn
    (``--root-path /v1``): the client addressed ``/api/v1/files/x``."""
    gp, access = _gatepass(PUBLIC)
    with uvicorn_serving(_fastapi(gp), root_path="/v1") as base:
        response = _send(base, "/files/x", PUBLIC + "/v1/files/x", access)
        assert response.status_code == 200, response.text
        assert _send(base, "/files/x", PUBLIC + "/files/x", access).status_code == 401


@pytest.mark.parametrize(
    ("origin", "base"),
    [
        ("https://app.example", "https://app.example"),
        ("https://app.example/", "https://app.example"),
        ("HTTPS://App.Example:443/api/", "https://app.example/api"),
        ("https://app.example:8443/a/%7ev1", "https://app.example:8443/a/~v1"),
    ],
)
def test_the_public_base_is_kept_in_normal_form(origin: str, base: str) -> None:
    gp, _ = _gatepass(origin)
    assert gp.dpop is not None
    assert gp.dpop.origin == base


@pytest.mark.parametrize(
    "origin",
    [
        "https://app.example/api?x=1",
        "https://app.example/api#top",
        "https://app.example/a/../api",
        "https://user@app.example",
        "ftp://app.example",
        "app.example",
        "https://app.example/a b",
    ],
)
def test_an_unusable_public_base_is_refused(origin: str) -> None:
    with pytest.raises(ConfigurationError, match="origin"):
        _gatepass(origin)
