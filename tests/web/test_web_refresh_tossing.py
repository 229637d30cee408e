"""Cookie tossing onto the hybrid's refresh cookie, over real servers (uvicorn, waitress).

``__Secure-refresh`` must be scoped to the refresh path, so it cannot be ``__Host-``, and a page
on a sibling subdomain may plant one with ``Domain=<parent>``: its own refresh cookie, from its
own login. A browser that has no refresh cookie of its own would then refresh into the
attacker's account (login CSRF), and the victim would type their data into it. The browser
sends the planted cookie like any other: the requests below carry exactly the ``Cookie`` header
it would. What the attacker cannot plant is the ``__Host-refresh-family`` companion
(``__Host-`` forbids ``Domain``), and a refresh cookie counts only beside the companion that
names its family.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from gp_web_servers import SERVERS
from webapps import make_app
from webdesigns import PASSWORD, build

from gatepass.stores import open_store
from gatepass.strategies._refresh_policy import first_token, new_family_id
from gatepass.web.cookies import CookiePolicy, read_refresh

PAGE = {"sec-fetch-site": "same-origin"}
REFRESH, FAMILY = "__Secure-refresh", "__Host-refresh-family"


def _cookies(response: httpx.Response) -> dict[str, str]:
    """The cookies an answer set (name -> value), as the browser would keep them."""
    found = {}
    for header in response.headers.get_list("set-cookie"):
        name, _, value = header.split(";", 1)[0].partition("=")
        found[name] = value
    return found


@pytest.fixture(params=sorted(SERVERS))
def base(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[str]:
    kind, serving = SERVERS[str(request.param)]
    store = open_store(sqlite_url)
    store.setup()
    built = build("hybrid", store, asynchronous=False)
    try:
        with serving(make_app(kind, built.gatepass)) as url:
            yield url
    finally:
        asyncio.run(built.close())
        store.close()


def _login(http: httpx.Client, username: str, password: str) -> dict[str, str]:
    answer = http.post(
        "/auth/login",
        headers=PAGE,
        json={"username": username, "password": password, "design": "hybrid"},
    )
    assert answer.status_code == 200, answer.text
    return _cookies(answer)


def _refresh(http: httpx.Client, cookie: str) -> httpx.Response:
    return http.post("/auth/refresh", headers={**PAGE, "cookie": cookie})


def _user(http: httpx.Client, answer: httpx.Response) -> str:
    token = answer.json()["access_token"]
    me = http.get("/me", headers={"authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    return str(me.json()["user"])


def _refused(answer: httpx.Response) -> bool:
    """Answered as a request without a refresh cookie: 401, and no cookie set or cleared."""
    return (
        answer.status_code == 401
        and answer.json()["code"] == "ERR_UNAUTHENTICATED"
        and "set-cookie" not in answer.headers
    )


def test_a_tossed_refresh_cookie_never_logs_the_victim_into_the_attackers_account(
    base: str,
) -> None:
    with httpx.Client(base_url=base, timeout=10) as http:
        bob = _login(http, "bob", "bob's own password")  # the attacker's own login
        alice = _login(http, "alice", PASSWORD)  # the victim, on an earlier visit
        planted = f"{REFRESH}={bob[REFRESH]}"  # Domain=<parent>; no companion can come with it

        # A browser with no login state of its own: the planted cookie alone.
        assert _refused(_refresh(http, planted))
        # One that kept its own companion (its refresh cookie evicted or expired first).
        assert _refused(_refresh(http, f"{planted}; {FAMILY}={alice.get(FAMILY)}"))
        # Both of its own plus the planted one: a repeated name counts as none.
        victim = f"{REFRESH}={alice[REFRESH]}; {FAMILY}={alice.get(FAMILY)}"
        assert _refused(_refresh(http, f"{victim}; {planted}"))

        # Nothing was burned or revoked: both families rotate as their browsers send them.
        mine = _refresh(http, victim)
        assert mine.status_code == 200 and _user(http, mine) == "alice"
        assert _cookies(mine)[FAMILY] == alice[FAMILY]
        theirs = _refresh(http, f"{planted}; {FAMILY}={bob.get(FAMILY)}")
        assert theirs.status_code == 200 and _user(http, theirs) == "bob"


def test_the_companion_is_set_and_cleared_with_the_refresh_cookie(base: str) -> None:
    with httpx.Client(base_url=base, timeout=10) as http:
        login = http.post(
            "/auth/login",
            headers=PAGE,
            json={"username": "alice", "password": PASSWORD, "design": "hybrid"},
        )
        companion = [h for h in login.headers.get_list("set-cookie") if h.startswith(FAMILY)]
        assert len(companion) == 1
        family = companion[0].split(";", 1)[0].partition("=")[2]
        assert _cookies(login)[REFRESH].split(".", 1)[1].startswith(family + "~")
        flags = {part.strip().split("=")[0] for part in companion[0].split(";")[1:]}
        assert "Path=/" in companion[0] and "Domain" not in flags
        assert {"Secure", "HttpOnly", "SameSite"} <= flags
        token = login.json()["access_token"]
        out = http.post("/auth/logout", headers={**PAGE, "authorization": f"Bearer {token}"})
        assert out.status_code == 200
        cleared = [h for h in out.headers.get_list("set-cookie") if h.startswith(FAMILY)]
        assert len(cleared) == 1 and "Max-Age=0" in cleared[0]


def test_the_one_rule_reads_a_refresh_cookie_only_beside_its_companion() -> None:
    policy = CookiePolicy()
    family, other = new_family_id(), new_family_id()
    token = first_token("alice", family)
    mine = f"{REFRESH}={token}"
    assert read_refresh(f"{mine}; {FAMILY}={family}", policy) == token
    assert read_refresh(f"a=1; {FAMILY}={family};{mine}", policy) == token
    for header in (
        mine,
        f"{mine}; {FAMILY}={other}",
        f"{mine}; {FAMILY}=",
        f"{mine}; __host-refresh-family={family}",  # not the prefixed name: anyone may set it
        f"{mine}; {FAMILY}={family}; {FAMILY}={family}",  # repeated: counts as absent
        f"{mine}; {mine}; {FAMILY}={family}",
    ):
        assert read_refresh(header, policy) is None, header
    # Junk is no family's: it reaches the endpoint, which refuses it as malformed.
    assert read_refresh(f"{REFRESH}=junk", policy) == "junk"


def test_each_refresh_path_has_its_own_companion() -> None:
    """``__Host-`` forces ``Path=/``: two hybrids on one host (another prefix, a mount, as the
    reference app's DPoP area) must not overwrite each other's companion."""
    default, other = CookiePolicy(), CookiePolicy(refresh_path="/dpop/auth/refresh")
    assert default.family_name() == FAMILY
    names = {default.family_name(), default.family_name("/app"), other.family_name()}
    assert len(names) == 3 and all(name.startswith(FAMILY) for name in names)
    assert other.family_name() == default.family_name("/dpop")  # named after the path
    family = new_family_id()
    token = first_token("alice", family)
    both = f"{REFRESH}={token}; {FAMILY}={new_family_id()}; {other.family_name()}={family}"
    assert read_refresh(both, other) == token
    assert read_refresh(both, default) is None
    assert read_refresh(both, default, "/dpop") == token
