"""Property tests (hypothesis) of the web layer: hostile or odd requests, driven in-process
through the ASGI and the WSGI middleware of the same configuration (``webfuzz.py``; the
configurations are in ``webfuzz_worlds.py``, some with the asyncio strategies on the ASGI side),
and as WebSocket handshakes through the ASGI one.

Whatever the method, path, headers, cookies, credentials and body:

* no exception escapes either middleware, and nothing answers 5xx (no store is down here);
* every refusal is an RFC 9457 problem document that quotes no credential the request sent;
* ASGI and WSGI answer the same status with the same ``Set-Cookie`` names (for methods a WSGI
  server accepts: waitress refuses a lower-case method, uvicorn passes it on as it came);
* a request that carries no live credential never reaches the app with a principal, and one
  without the password never gets a login cookie or an access token;
* a refused request never sets a login cookie.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from webfuzz import LIVE, TRUSTED, Answer, Request, World
from webfuzz_worlds import CONFIGS, world

EXAMPLES = settings(
    max_examples=int(os.environ.get("GATEPASS_FUZZ_EXAMPLES", "40")),
    deadline=None,
    derandomize="GATEPASS_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

METHODS = ("GET", "POST", "HEAD", "OPTIONS", "DELETE", "PUT", "PATCH", "TRACE", "FOO")
ENDPOINTS = (
    "{P}/login",
    "{P}/logout",
    "{P}/logout-all",
    "{P}/refresh",
    "{P}/sessions",
    "{P}/sessions/abc",
    "{P}/sessions/{SID}",
    "{P}/sessions/",
    "{P}/sessions/a/b",
    "{P}/csrf",
    "{P}/gatepass.js",
    "{P}/",
    "{P}/nothing",
    "/.well-known/jwks.json",
    "/",
    "/me",
    "/me",
    "/me%FF",
    "/caf%C3%A9",
    "/auth",
    "/authx/login",
)
JUNK = st.sampled_from(
    ["", " ", ";", ",", "=", '"', '""', "a=b", "\x00", "é", "\xff", "x" * 40, "a;b,c=d\"e'", "%00"]
)
TOKENISH = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~=+/ ",
    min_size=0,
    max_size=60,
)
LATIN1 = st.text(alphabet=st.characters(max_codepoint=255), max_size=40)
CREDENTIAL = st.sampled_from(
    ["{SESSION}", "{ACCESS}", "{ACCESS_CUT}", "{ACCESS_FLIP}", "{SESSION_CUT}", "{REFRESH}"]
)
VALUE = st.one_of(JUNK, TOKENISH, LATIN1, CREDENTIAL)


@st.composite
def paths(draw: st.DrawFn) -> str:
    """A raw ASCII request target: an endpoint, maybe percent-encoded, odd or very long."""
    base = draw(st.sampled_from(ENDPOINTS))
    kind = draw(st.sampled_from(["plain"] * 6 + ["encode", "suffix", "long"]))
    if kind == "encode":
        head, tail = base[:3], base[3:]
        index = draw(st.integers(0, max(0, len(tail) - 1)))
        if tail:
            tail = tail[:index] + f"%{ord(tail[index]):02X}" + tail[index + 1 :]
        base = head + tail
    elif kind == "suffix":
        extra = draw(st.sampled_from(["%C3%A9", "%FF", "%2F", "/", "%00", ";x=1", "/..", "%", "é"]))
        base += quote(extra, safe="/;=%")
    elif kind == "long":
        base += "/" + "a" * draw(st.integers(100, 9000))
    if draw(st.booleans()):
        base += "?" + quote(draw(LATIN1), safe="=&")
    return base


@st.composite
def cookie_headers(draw: st.DrawFn) -> bytes:
    names = st.sampled_from(
        ["{SESSION_NAME}", "{REFRESH_NAME}", "{FAMILY_NAME}", "{SEED_NAME}", "junk", "", "a b"]
    )
    values = st.one_of(VALUE, st.sampled_from(["{FAMILY}", "{SEED}", "{REFRESH}", "{SESSION}"]))
    pairs = draw(st.lists(st.tuples(names, values), max_size=5))
    sep = draw(st.sampled_from(["; ", ";", ", ", " ;  "]))
    return sep.join(f"{n}={v}" for n, v in pairs).encode("latin-1")


@st.composite
def authorizations(draw: st.DrawFn) -> bytes:
    scheme = draw(st.sampled_from(["Bearer", "bearer", "BEARER", "DPoP", "Basic", "", "Bearer "]))
    token = draw(VALUE)
    gap = draw(st.sampled_from([" ", "  ", "\t", ""]))
    return f"{scheme}{gap}{token}".encode("latin-1")


HEADER_VALUES: dict[str, Any] = {
    "cookie": cookie_headers(),
    "authorization": authorizations(),
    "dpop": st.one_of(st.sampled_from(["{PROOF}", "{PROOF_LOCAL}"]), VALUE).map(
        lambda v: v.encode("latin-1")
    ),
    "origin": st.sampled_from(
        [
            TRUSTED,
            "https://app.example",
            "null",
            "https://evil.example",
            "",
            "https://app.example/x",
        ]
    ).map(str.encode),
    "sec-fetch-site": st.sampled_from(
        ["same-origin", "same-site", "cross-site", "none", "", "SAME-ORIGIN"]
    ).map(str.encode),
    "x-csrf-token": st.one_of(st.just("{CSRF}"), VALUE).map(lambda v: v.encode("latin-1")),
    "content-type": st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "Application/JSON; charset=utf-8",
            "text/plain",
            "multipart/form-data; boundary=x",
            "",
        ]
    ).map(str.encode),
    "host": st.sampled_from(["app.example", "APP.example:443", "", "a b", "[::1]:8", "é"]).map(
        lambda v: v.encode("latin-1")
    ),
    "user-agent": LATIN1.map(lambda v: v.encode("latin-1")),
    "access-control-request-method": st.sampled_from(["POST", "GET", ""]).map(str.encode),
    "x-other": st.binary(max_size=30),
}


#: Headers an honest client sends, each added to a request with some probability, so that the
#: interesting branches (a live credential, a passing CSRF check) are reached.
HONEST: tuple[tuple[bytes, bytes], ...] = (
    (b"cookie", b"{SESSION_NAME}={SESSION}"),
    (b"cookie", b"{REFRESH_NAME}={REFRESH}; {FAMILY_NAME}={FAMILY}"),
    (b"cookie", b"{SEED_NAME}={SEED}"),
    (b"authorization", b"Bearer {ACCESS}"),
    (b"authorization", b"DPoP {ACCESS}"),
    (b"dpop", b"{PROOF}"),
    (b"sec-fetch-site", b"same-origin"),
    (b"origin", TRUSTED.encode()),
    (b"x-csrf-token", b"{CSRF}"),
    (b"content-type", b"application/json"),
    (b"content-type", b"application/x-www-form-urlencoded"),
)


@st.composite
def header_lists(draw: st.DrawFn) -> list[tuple[bytes, bytes]]:
    headers = [h for h in HONEST if draw(st.integers(0, 3)) == 0]
    names = draw(st.lists(st.sampled_from(sorted(HEADER_VALUES)), max_size=5))
    headers += [(name.encode(), draw(HEADER_VALUES[name])) for name in names]
    if draw(st.integers(0, 19)) == 0:
        headers.append((b"x-huge", b"y" * 20000))
    return draw(st.permutations(headers))


FIELD_VALUES = st.one_of(
    st.sampled_from(["alice", "{PASSWORD}", "{CSRF}", "session", "hybrid", "bearer", "1"]),
    st.sampled_from(["/next", "//evil.example", "/\\x", "https://e.example", "/é"]),
    LATIN1,
)
FIELD_NAMES = st.sampled_from(
    ["username", "password", "design", "remember", "next", "fail", "csrf_token", "x"]
)


@st.composite
def bodies(draw: st.DrawFn) -> list[bytes]:
    kind = draw(st.sampled_from(["none", "form", "json", "nested", "bytes", "huge"]))
    fields = draw(st.lists(st.tuples(FIELD_NAMES, FIELD_VALUES), max_size=6))
    if kind == "none":
        body = b""
    elif kind == "form":
        body = urlencode(fields, encoding="latin-1").encode("latin-1")
    elif kind == "json":
        body = json.dumps(dict(fields)).encode()
    elif kind == "nested":
        depth = draw(st.integers(1, 3000))
        body = b'{"username": ' + b"[" * depth + b"]" * depth + b"}"
    elif kind == "bytes":
        body = draw(st.binary(max_size=200))
    else:
        body = b"username=" + b"a" * draw(st.integers(16 * 1024, 40 * 1024))
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=3)))
    chunks, start = [], 0
    for cut in cuts:
        chunks.append(body[start:cut])
        start = cut
    chunks.append(body[start:])
    return chunks


#: The method each path takes (``/me`` is the app's own route).
NATURAL = {"login": "POST", "logout": "POST", "logout-all": "POST", "refresh": "POST"}


@st.composite
def requests(draw: st.DrawFn) -> Request:
    target = draw(paths())
    if draw(st.booleans()):
        last = target.split("?")[0].rsplit("/", 1)[-1]
        if "sessions" in target and last not in ("sessions", ""):
            method = "DELETE"
        else:
            method = NATURAL.get(last, draw(st.sampled_from(["GET", "POST"])))
    else:
        method = draw(st.sampled_from(METHODS))
    return Request(method, target, draw(header_lists()), draw(bodies()))


# --- the invariants ------------------------------------------------------------------------------


def _sent_credentials(world_: World, request: Request) -> list[str]:
    """The credential values this request carried (after filling in): none may come back."""
    used = request.names()
    secrets_ = [world_.creds[n] for n in used if n in world_.creds and n not in ("P",)]
    return [s for s in secrets_ if len(s) >= 12 and not s.endswith("_NAME")]


def check_answer(world_: World, template: Request, filled: Request, answer: Answer) -> None:
    assert answer.status < 500, (answer.status, answer.body[:300])
    login_names = {
        world_.gp.cookies.session_name,
        world_.gp.cookies.refresh_name,
        world_.gp.cookies.family_name(),
    }
    fresh = [(n, v) for n, v in answer.cookies() if n in login_names and v]
    if answer.status >= 400:
        assert answer.header("content-type") == "application/problem+json", answer.headers
        if filled.method.upper() != "HEAD":
            problem = json.loads(answer.body)
            assert problem["status"] == answer.status
            assert {"type", "title", "detail", "code"} <= set(problem)
        assert not fresh, (answer.status, fresh)
    names = {n for n in template.names()}
    exposed = str(answer.header("www-authenticate"))
    if "javascript" not in str(answer.header("content-type")):  # gatepass.js shows an example
        exposed += answer.body.decode("latin-1")
    for secret in _sent_credentials(world_, template):
        if secret in {world_.creds.get(n) for n in ("SESSION_NAME", "REFRESH_NAME", "P")}:
            continue
        if answer.status >= 400 or secret == world_.creds.get("PASSWORD"):
            assert secret not in exposed, (secret, answer.body[:300])
    if not names & set(LIVE):
        assert answer.principal is None, answer.principal
        if "PASSWORD" not in names:
            assert not fresh, fresh
            if answer.header("content-type") == "application/json" and answer.body:
                assert "access_token" not in json.loads(answer.body)


@pytest.fixture(params=sorted(CONFIGS))
def worlds(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    (tmp_path / "a").mkdir()
    (tmp_path / "w").mkdir()
    with (
        world(request.param, str(tmp_path / "a"), asgi=True) as a,
        world(request.param, str(tmp_path / "w"), asgi=False) as w,
    ):
        yield a, w


@EXAMPLES
@given(template=requests())
def test_asgi_and_wsgi_agree_and_refuse_cleanly(
    worlds: tuple[World, World], template: Request
) -> None:
    a, w = worlds
    a.login()
    w.login()
    filled_a, filled_w = a.fill(template), w.fill(template)
    answer_a = a.run_asgi(filled_a)
    answer_w = w.run_wsgi(filled_w)
    check_answer(a, template, filled_a, answer_a)
    check_answer(w, template, filled_w, answer_w)
    event(f"status {answer_a.status}")
    event(f"principal {answer_a.principal is not None}")
    event(f"fresh cookie {any(v for _, v in answer_a.cookies())}")
    assert answer_a.status == answer_w.status, (answer_a.body[:300], answer_w.body[:300])
    assert sorted(n for n, _ in answer_a.cookies()) == sorted(n for n, _ in answer_w.cookies())
    assert (answer_a.principal is None) == (answer_w.principal is None)


@st.composite
def odd_method_requests(draw: st.DrawFn) -> Request:
    method = draw(st.sampled_from(["post", "get", "Post", "delete", "head", "options", "M-SEARCH"]))
    return Request(method, draw(paths()), draw(header_lists()), draw(bodies()))


@EXAMPLES
@given(template=odd_method_requests())
def test_odd_methods_refuse_cleanly(worlds: tuple[World, World], template: Request) -> None:
    """Methods are case-sensitive (RFC 9110 9.1): uvicorn passes ``post`` on as it came, and
    the ASGI middleware judges it as an unknown method (unsafe, so CSRF applies; 405 at an
    endpoint); waitress refuses it before the app, and the WSGI middleware, like werkzeug,
    reads it upper-case. So no agreement is asserted, only the invariants on each side."""
    a, w = worlds
    a.login()
    w.login()
    filled_a, filled_w = a.fill(template), w.fill(template)
    check_answer(a, template, filled_a, a.run_asgi(filled_a))
    check_answer(w, template, filled_w, w.run_wsgi(filled_w))


@EXAMPLES
@given(template=requests())
def test_websocket_handshakes_close_cleanly(worlds: tuple[World, World], template: Request) -> None:
    """The same requests as WebSocket handshakes (ASGI only): the middleware either hands the
    app the connection or closes it with 1008, never raises, and junk is nobody."""
    a, _ = worlds
    a.login()
    sent, principal = a.run_websocket(a.fill(template))
    assert sent and all(m["type"] == "websocket.close" for m in sent), sent
    assert sent[0]["code"] in (1000, 1008)
    if not template.names() & set(LIVE):
        assert principal is None
