"""Hostile input to the strategies and stores of the public API: a result or a GatepassError.

Every value a caller hands over (a leeway, a lifetime, a scope, a claim set, a store URL) is
either used as documented or refused with a ``GatepassError`` (``ConfigurationError`` for a bad
setting, as sessions already do): never a bare ``TypeError`` / ``OverflowError`` /
``UnicodeError`` from a driver, and never silently accepted in a way that weakens a check (a NaN
compares false with everything: a NaN leeway let every expired token through). The token layer
has its own file, ``tests/tokens/test_tokens_fuzz.py``.
"""

from __future__ import annotations

import contextlib
import math
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatepass import (
    AccessTokens,
    AsyncAccessTokens,
    AsyncRefreshTokens,
    ConfigurationError,
    GatepassError,
    JWKSClient,
    Key,
    KeyRing,
    KeyUsageError,
    RefreshTokens,
    open_async_store,
    open_store,
)
from gp_testkit import HOSTILE_NUMBERS, drop_postgres_schema, drop_redis_prefix, nested_object

EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HS = Key.from_secret(b"f" * 32, kid="fuzz")


# --- strategies: every duration is checked as sessions check theirs -----------------------------


@pytest.mark.parametrize("value", [*HOSTILE_NUMBERS, -1, 301], ids=repr)
def test_access_tokens_refuse_a_leeway_that_is_not_a_finite_number(value: object) -> None:
    """``leeway=nan`` passed ``0 <= leeway <= 300`` (a NaN compares false) and every token then
    verified however long expired."""
    with pytest.raises(ConfigurationError, match="leeway"):
        AccessTokens(HS, issuer="https://id.example", audience="api", leeway=value)  # type: ignore[arg-type]


@pytest.mark.parametrize("ttl", [10**400, 2**64 * 10**9, 0, 1.5, True], ids=repr)
def test_access_tokens_refuse_a_ttl_that_is_not_a_storable_whole_number(ttl: object) -> None:
    """``ttl=10**400`` was an OverflowError (``ttl + leeway`` is a float)."""
    with pytest.raises(ConfigurationError, match="ttl"):
        AccessTokens(HS, issuer="https://id.example", audience="api", ttl=ttl)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [*HOSTILE_NUMBERS, 0, 1e300], ids=repr)
def test_key_ring_refuses_a_retain_that_is_not_a_finite_number(value: object) -> None:
    """A NaN ``retain`` kept retired keys forever and slipped past the check that the ring
    outlives the tokens of an ``AccessTokens`` using it."""
    with pytest.raises(ConfigurationError, match="retain"):
        KeyRing(Key.generate("ES256"), retain=value)  # type: ignore[arg-type]


@pytest.mark.parametrize("clock", [None, "now", lambda: math.nan, lambda: "now"], ids=repr)
def test_key_ring_refuses_a_clock_that_reads_no_finite_number(clock: object) -> None:
    """``clock=None`` was a TypeError from inside the constructor."""
    with pytest.raises(ConfigurationError, match="clock"):
        KeyRing(Key.generate("ES256"), retain=60, clock=clock)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [*HOSTILE_NUMBERS, -1, 1e300], ids=repr)
@pytest.mark.parametrize("option", ["idle_timeout", "absolute_timeout", "grace"])
def test_refresh_tokens_refuse_a_duration_that_is_not_a_finite_number(
    option: str, value: object
) -> None:
    """``absolute_timeout=inf`` was accepted and then an OverflowError (Redis keeps integer TTLs)
    on the first ``start``; ``"5"`` a TypeError; ``True`` a one-second lifetime."""
    access = AccessTokens(HS, issuer="https://id.example", audience="api")
    with pytest.raises(ConfigurationError, match=option):
        RefreshTokens(open_store("memory://"), access, **{option: value})


@pytest.mark.parametrize("on_reuse", [1, "log", True, object()], ids=repr)
def test_refresh_tokens_refuse_an_on_reuse_that_cannot_be_called(on_reuse: object) -> None:
    """It was called only when a stolen token came back: a TypeError in the middle of a reuse."""
    access = AccessTokens(HS, issuer="https://id.example", audience="api")
    with pytest.raises(ConfigurationError, match="on_reuse"):
        RefreshTokens(open_store("memory://"), access, on_reuse=on_reuse)  # type: ignore[arg-type]


def test_refresh_tokens_refuse_a_store_or_access_tokens_of_the_other_flavour() -> None:
    """A blocking RefreshTokens over an asyncio store never awaited the store's coroutines:
    ``start`` handed out a refresh token whose family was never stored. Anything that is not a
    store (or not AccessTokens) was an AttributeError at the first login."""
    access = AccessTokens(HS, issuer="https://id.example", audience="api")
    async_access = AsyncAccessTokens(HS, issuer="https://id.example", audience="api")
    with pytest.raises(ConfigurationError, match="open_store"):
        RefreshTokens(open_async_store("memory://"), access)
    with pytest.raises(ConfigurationError, match="open_async_store"):
        AsyncRefreshTokens(open_store("memory://"), async_access)
    with pytest.raises(ConfigurationError, match="AccessTokens"):
        RefreshTokens(open_store("memory://"), async_access)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="AsyncAccessTokens"):
        AsyncRefreshTokens(open_async_store("memory://"), access)  # type: ignore[arg-type]
    for junk in (None, "memory://", HS):
        with pytest.raises(ConfigurationError, match="store"):
            RefreshTokens(junk, access)  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError, match="access_tokens"):
            RefreshTokens(open_store("memory://"), junk)  # type: ignore[arg-type]


@pytest.mark.parametrize("option", ["active", "staged", "retired"])
@pytest.mark.parametrize("junk", [5, "kid", b"key", HS.to_jwk(private=True)], ids=repr)
def test_key_ring_refuses_what_is_not_a_key(option: str, junk: object) -> None:
    """Each was an AttributeError ('NoneType' object has no attribute 'is_private'); a staged
    key is checked like the active one (it signs once rotated)."""
    keys: dict[str, Any] = {"active": Key.generate("ES256"), option: junk}
    if option == "retired":
        keys["retired"] = [junk]
    with pytest.raises(KeyUsageError):
        KeyRing(**keys)
    with pytest.raises(KeyUsageError):
        KeyRing.generate().rotate(junk)  # type: ignore[arg-type]


@given(
    idle=st.one_of(
        st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -1, 10**400]),
        st.floats(min_value=60, max_value=4e9),
        st.floats(min_value=4e9, max_value=1e300),
        st.integers(min_value=60, max_value=2**80),
    ),
    extra=st.floats(min_value=0, max_value=1e12),
)
@settings(EXAMPLES, max_examples=15)
def test_refresh_lifetimes_are_refused_or_work_on_every_store(
    store: Any, idle: float, extra: float
) -> None:
    """What the constructor accepts, every backend stores: a family starts and rotates, or the
    settings are refused up front (never an OverflowError or a StoreError from Redis alone)."""
    access = AccessTokens(HS, issuer="https://id.example", audience="api")
    absolute = idle if isinstance(idle, int) and idle > 2**80 else idle + extra
    try:
        refresh = RefreshTokens(store, access, idle_timeout=idle, absolute_timeout=absolute)
    except ConfigurationError:
        return
    token, _ = refresh.start("fuzz-user")
    successor, access_token = refresh.rotate(token)
    assert successor != token
    assert access.verify(access_token)["sub"] == "fuzz-user"


JWKS_BAD_SETTINGS: list[tuple[str, object]] = [
    *[("timeout", value) for value in (math.nan, math.inf, 86401)],
    *[("max_age", value) for value in (math.nan, True)],
    *[("cooldown", value) for value in (math.nan, "30")],
    *[("max_bytes", value) for value in (1.5, None)],
    ("clock", None),
]


@pytest.mark.parametrize(("option", "value"), JWKS_BAD_SETTINGS, ids=repr)
def test_jwks_client_refuses_settings_that_are_not_finite_numbers(
    option: str, value: object
) -> None:
    """A NaN ``max_age`` or ``cooldown`` was accepted (every cache test false); ``"30"`` or
    ``None`` was a TypeError."""
    with pytest.raises(ConfigurationError):
        JWKSClient("https://id.example/jwks", **{option: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url", ["https://[::1/jwks", "https://id.example:99999/jwks", "http://[::1]:port/", 42, None]
)
def test_jwks_client_refuses_a_url_urllib_cannot_parse(url: object) -> None:
    """An open bracket was a ValueError and an int an AttributeError; a bad port passed and
    failed only on the first fetch."""
    with pytest.raises(ConfigurationError, match="JWKS URL"):
        JWKSClient(url)  # type: ignore[arg-type]


# --- what a refresh family or an access token carries: text every store keeps -------------------

#: Text PostgreSQL's ``text`` cannot hold (NUL) or no driver can encode (a lone surrogate).
UNSTORABLE = ["a\x00b", "\x00", "\ud800", "scope\udfff"]


@given(
    bad=st.sampled_from(UNSTORABLE), good=st.lists(st.from_regex(r"[a-z:]{1,12}", fullmatch=True))
)
@settings(EXAMPLES, max_examples=10)
def test_refresh_start_refuses_scopes_and_jkt_no_store_keeps(
    store: Any, bad: str, good: list[str]
) -> None:
    """A NUL scope was a StoreError on PostgreSQL and stored as it was on SQLite and Redis; a
    lone surrogate was a UnicodeEncodeError on all three. Now the same ConfigurationError on
    every backend, before anything is written; good scopes still round-trip."""
    access = AccessTokens(HS, issuer="https://id.example", audience="api")
    refresh = RefreshTokens(store, access)
    with pytest.raises(ConfigurationError, match="scope"):
        refresh.start("fuzz-user", scopes=[*good, bad])
    with pytest.raises(ConfigurationError, match="jkt"):
        refresh.start("fuzz-user", jkt=bad)
    token, _ = refresh.start("fuzz-user", scopes=good)
    _, access_token = refresh.rotate(token)
    assert access.verify(access_token).get("scope", "") == " ".join(good)


@pytest.mark.parametrize("scopes", [None, 3, 1.5, True, object()], ids=repr)
def test_scopes_that_are_not_iterable_are_a_configuration_error(scopes: object) -> None:
    """``scopes=None`` was a TypeError ("not iterable") from ``issue`` and ``start``."""
    access = AccessTokens(HS, issuer="https://id.example", audience="api")
    with pytest.raises(ConfigurationError, match="scopes"):
        access.issue("fuzz-user", scopes=scopes)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="scopes"):
        RefreshTokens(open_store("memory://"), access).start("u", scopes=scopes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "claims",
    ["x", b"x", ["a", "b"], 3, nested_object(50_000), {"big": "x" * 9000}],
    ids=["str", "bytes", "list", "int", "deep", "oversized"],
)
def test_access_token_claims_that_make_no_usable_token_are_refused(claims: object) -> None:
    """``claims="x"`` was a ValueError and ``b"x"`` a TypeError (``dict.update``), claims nested
    50,000 deep a RecursionError; a 9 KB claim made a token ``verify`` itself refused as too
    large (TokenTooLarge): an access token nobody could ever use."""
    access = AccessTokens(HS, issuer="https://id.example", audience="api")
    with pytest.raises(ConfigurationError):
        access.issue("fuzz-user", claims=claims)  # type: ignore[arg-type]


@given(
    claims=st.dictionaries(
        st.text(max_size=8),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
            max_leaves=20,
        ),
        max_size=6,
    )
)
@EXAMPLES
def test_access_tokens_issue_what_they_verify(claims: dict[str, Any]) -> None:
    """Any extra claims: either refused up front (GatepassError) or a token that verifies and
    gives them back."""
    access = AccessTokens(HS, issuer="https://id.example", audience="api")
    try:
        token = access.issue("fuzz-user", claims=claims)
    except GatepassError:
        return
    verified = access.verify(token)
    assert {k: verified[k] for k in claims} == claims


# --- store URLs: a ConfigurationError when opened, never a driver error on first use ------------

_SQL_OPTIONS = ["prefix", "schema", "busy_timeout", "synchronous", "timeout", "connect_timeout"]
_POOL_OPTIONS = ["pool_min_size", "pool_max_size", "pool_timeout", "max_connections", "db"]
_OTHER_OPTIONS = ["cluster", "ssl_cert_reqs", "ssl_keyfile", "socket_keepalive", "path", "x%ff"]
OPTION_NAMES = [*_SQL_OPTIONS, *_POOL_OPTIONS, *_OTHER_OPTIONS, "sslmode", "socket_timeout"]
OPTION_VALUES = ["", "1", "0", "-1", "nan", "inf", "1e999", "99999999999999999999", "none", "%ff"]


def _open_and_set_up(url: str) -> None:
    store = open_store(url)
    try:
        store.setup()
    finally:
        store.close()


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/15?ssl_cert_reqs=none",
        "redis://127.0.0.1:6379/15?ssl_keyfile=/nonexistent",
        "unix:///nonexistent/redis.sock?socket_keepalive=true",
        "postgresql://postgres@127.0.0.1:5432/te%ffst",
        "postgresql://us%ffer@127.0.0.1:5432/test",
    ],
)
def test_store_url_options_a_driver_cannot_take_are_refused_when_opened(url: str) -> None:
    """An ``ssl_*`` option on a plain ``redis://`` URL passed the option check (it is some
    connection class's parameter) and was a TypeError at the first command; a ``%ff`` in a
    PostgreSQL URL was a UnicodeDecodeError from psycopg. Both refused by ``open_store`` now."""
    with pytest.raises(ConfigurationError):
        open_store(url)


@pytest.fixture(scope="module")
def private_bases(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str, postgres_url: str
) -> Iterator[dict[str, str]]:
    """Base URLs with a private prefix and schema (a second ``prefix`` or ``schema`` option is
    refused as given twice, so nothing is written outside them); all removed afterwards, from
    every Redis database a ``db`` option may have chosen."""
    tag = f"gpfz{secrets.token_hex(4)}"
    yield {
        "memory": "memory://",
        "sqlite": f"sqlite:///{tmp_path_factory.mktemp('urls') / 'fuzz.db'}",
        "redis": f"{redis_url}?prefix={tag}:",
        "postgres": f"{postgres_url}?schema={tag}&prefix=t_",
    }
    server = redis_url.rsplit("/", 1)[0]
    for db in range(16):
        drop_redis_prefix(f"{server}/{db}?prefix={tag}:")
    drop_postgres_schema(f"{postgres_url}?schema={tag}")


@given(
    backend=st.sampled_from(["memory", "sqlite", "redis", "postgres"]),
    options=st.lists(
        st.tuples(st.sampled_from(OPTION_NAMES), st.sampled_from(OPTION_VALUES)), max_size=3
    ),
)
@settings(EXAMPLES, max_examples=150)
def test_store_urls_with_any_options_open_or_are_refused(
    private_bases: dict[str, str], backend: str, options: list[tuple[str, str]]
) -> None:
    """Whatever the query options, ``open_store`` plus ``setup`` either work or raise a
    GatepassError (ConfigurationError, or StoreError for what only the server can refuse)."""
    base = private_bases[backend]
    query = "&".join(f"{name}={value}" for name, value in options)
    url = f"{base}{'&' if '?' in base else '?'}{query}" if query else base
    with contextlib.suppress(GatepassError):
        _open_and_set_up(url)
