"""What the property tests of ``test_web_fuzz.py`` found, each pinned as one focused request
through both middlewares (``webfuzz.py``)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from webdesigns import PASSWORD
from webfuzz import HOST, Answer, Request, World
from webfuzz_worlds import world

from gatepass.tokens import dpop


def _dpop_sides(tmp_path: Path) -> Iterator[tuple[World, Callable[[Request], Answer]]]:
    """Each middleware in front of the DPoP hybrid, logged in (with a DPoP-bound token)."""
    with (
        world("dpop", str(tmp_path), asgi=True) as a,
        world("dpop", str(tmp_path), asgi=False) as w,
    ):
        for side, run in ((a, a.run_asgi), (w, w.run_wsgi)):
            side.login()
            yield side, run


def _bound(side: World, host: str, url: str) -> list[tuple[bytes, bytes]]:
    """``Host``, ``Authorization: DPoP`` and an honest proof for a GET of ``url``."""
    token = side.creds["ACCESS"]
    assert side.dpop_key is not None
    proof = dpop.create_proof(side.dpop_key, method="GET", url=url, access_token=token)
    return [
        (b"host", host.encode()),
        (b"authorization", f"DPoP {token}".encode()),
        (b"dpop", proof.encode()),
    ]


def test_an_empty_host_names_no_url_under_either_middleware(tmp_path: Path) -> None:
    """``Host:`` with an empty value is no host (RFC 9112 3.2: invalid for an http(s) URL).
    The WSGI middleware used to replace it with the server's own address, as for a request
    without ``Host``, so a DPoP proof for ``https://127.0.0.1:8000/me`` passed there while the
    ASGI middleware refused it: both now keep the empty value and no proof matches."""
    for side, run in _dpop_sides(tmp_path):
        headers = _bound(side, "", "https://127.0.0.1:8000/me")
        answer = run(Request("GET", "/me", headers, []))
        assert answer.reached_app and answer.principal is None, run.__name__


def _chunked_environ(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """A chunked request as werkzeug's server and gunicorn hand it over: no ``CONTENT_LENGTH``,
    ``wsgi.input_terminated`` set, the de-chunked body readable to its end."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/auth/login",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": HOST,
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
    }
    environ.update(headers)
    return environ


def _call(app: Any, environ: dict[str, Any]) -> tuple[int, bytes]:
    started: list[str] = []

    def start_response(status: str, headers: Any, exc: Any = None) -> Any:
        started.append(status)
        return lambda data: None

    body = b"".join(app(environ, start_response))
    return int(started[0].split()[0]), body


def test_a_chunked_login_reaches_the_wsgi_middleware(tmp_path: Path) -> None:
    """A chunked body (``fetch`` with a stream, ``curl -H 'Transfer-Encoding: chunked'``) has no
    ``Content-Length``; werkzeug's server and gunicorn say ``wsgi.input_terminated`` instead.
    The WSGI middleware read such a body as empty (a 400 for a login that the ASGI middleware
    accepts); it now reads it to its end, bounded as any other."""
    body = json.dumps({"username": "alice", "password": PASSWORD, "design": "bearer"}).encode()
    with world("stateless", str(tmp_path), asgi=False) as w:
        status, answer = _call(w.wsgi, _chunked_environ(body, {"CONTENT_TYPE": "application/json"}))
        assert status == 200, answer
        assert json.loads(answer)["token_type"] == "Bearer"
        huge = b'{"username": "' + b"a" * 40_000 + b'"}'
        status, answer = _call(w.wsgi, _chunked_environ(huge, {"CONTENT_TYPE": "application/json"}))
        assert status == 413, answer


def test_a_non_ascii_dpop_bound_token_is_refused_not_raised(tmp_path: Path) -> None:
    """``Authorization: DPoP <token>`` whose token is not ASCII (a latin-1 byte, or two
    ``Authorization`` lines joined into one value) made the proof check raise
    ``MalformedToken`` out of both middlewares (the ``ath`` of such a token cannot be
    computed): a 500. It is a malformed token like any other: the route sees no user and a
    401 ``ERR_JWS_MALFORMED`` when it needs one; the endpoints answer as without a credential."""
    for side, run in _dpop_sides(tmp_path):
        for value in (
            b"DPoP tok\xe9n",
            f"DPoP {side.creds['ACCESS']}, Bearer \xe9".encode("latin-1"),
        ):
            headers = [(b"host", HOST.encode()), (b"authorization", value), (b"dpop", b"x")]
            answer = run(Request("GET", "/me", headers, []))
            assert answer.reached_app and answer.principal is None, run.__name__
            answer = run(Request("GET", "/auth/sessions", headers, []))
            assert answer.status == 401, answer.body
            assert json.loads(answer.body)["code"] == "ERR_JWS_MALFORMED"


def test_a_dpop_proof_for_a_path_that_is_not_utf8_passes_under_both(tmp_path: Path) -> None:
    """``/me%FF`` is not UTF-8 once decoded: an ASGI server hands the app ``/me\\ufffd`` (and
    keeps ``raw_path``), a WSGI server ``/me\\xff`` read as latin-1. The URL a DPoP proof is
    checked against was rebuilt from the lossy ASGI path (``/me%EF%BF%BD``), so an honest
    proof for the URL the client sent failed under ASGI only. The raw target now counts when
    it decodes, the server's way, to the path the app was given."""
    for side, run in _dpop_sides(tmp_path):
        for path in ("/me%FF", "/me%80%80", "/caf%C3%A9%ff"):
            headers = _bound(side, HOST, f"https://{HOST}{path}")
            answer = run(Request("GET", path, headers, []))
            assert answer.principal is not None, (run.__name__, path)
            assert answer.principal.jkt is not None
