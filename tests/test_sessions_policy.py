"""The session policy as pure functions, the token format, configuration and store URLs.

Backend behaviour is in tests/stores/ (the conformance suite); this file needs no server.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import secrets
import subprocess
import sys
import types
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

import gatepass
from gatepass.errors import ConfigurationError, MissingDependency, StoreError, StoreUnavailable
from gatepass.stores import open_async_store, open_store
from gatepass.stores.driver_errors import translate_errors
from gatepass.stores.limits import MAX_TIMEOUT, check_id
from gatepass.stores.records import FrozenDict, SessionRecord
from gatepass.strategies._session_input import (
    MAX_DATA_BYTES,
    MAX_JSON_DEPTH,
    MAX_METADATA_BYTES,
    check_json,
    merge_data,
)
from gatepass.strategies._session_policy import (
    DEAD,
    DUE,
    Lifetimes,
    liveness,
    new_record,
    next_expiry,
    touched,
)
from gatepass.strategies._session_tokens import hash_token, new_token, parse_token, routing_tag

ROOT = Path(__file__).resolve().parent.parent
LIFE = Lifetimes(
    idle=100, absolute=1000, idle_remember=500, absolute_remember=5000, touch_interval=10
)


def is_live(record: SessionRecord, now: float, life: Lifetimes = LIFE) -> bool:
    return liveness(record, now, life) != DEAD


def touch_due(record: SessionRecord, now: float, life: Lifetimes = LIFE) -> bool:
    return liveness(record, now, life) == DUE


def record(**changes: float) -> SessionRecord:
    return new_record("alice", LIFE, 0.0, remember=False, metadata=None)._replace(**changes)


def test_is_live_boundaries() -> None:
    r = record()
    assert is_live(r, 99.999)
    assert not is_live(r, 100.0)  # now >= expires_at is expired
    late = record(last_seen_at=950.0, expires_at=1000.0)
    assert not is_live(late, 1000.0)  # the absolute lifetime
    shorter = Lifetimes(
        idle=10, absolute=1000, idle_remember=10, absolute_remember=1000, touch_interval=1
    )
    assert not is_live(r, 10.0, shorter)  # configuration shortened after creation


def test_touch_throttle_and_next_expiry() -> None:
    r = record()
    assert not touch_due(r, 9.99)
    assert touch_due(r, 10.0)
    assert next_expiry(r, 50.0, LIFE) == 150.0
    assert touched(r, 50.0, LIFE).last_seen_at == 50.0
    near_end = record(last_seen_at=940.0, expires_at=1000.0)
    assert next_expiry(near_end, 950.0, LIFE) == 1000.0  # capped by absolute
    assert not touch_due(r, 100.0)  # a dead session is never renewed


def test_remember_me_uses_its_own_lifetimes() -> None:
    r = new_record("alice", LIFE, 0.0, remember=True, metadata={"ua": "x"})
    assert (r.expires_at, r.absolute_expires_at) == (500.0, 5000.0)
    assert is_live(r, 400.0)


def test_token_format_entropy_and_hashing() -> None:
    tokens = {new_token("alice") for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        tag, secret = token.split(".")
        assert tag == routing_tag("alice") and len(secret) == 43  # 32 random bytes
        assert parse_token(token) == (hashlib.sha256(token.encode()).digest(), tag)
        assert hash_token(token) == hashlib.sha256(token.encode()).digest()
    assert routing_tag("alice") != routing_tag("bob")
    junk = ["", "AAAA", "AAAA." + "A" * 42, "AAA!." + "A" * 43, "{}{}." + "A" * 43]
    for bad in [*junk, "AAAA." + "\ud800" * 43, "AAAA." + "é" * 43, b"x" * 48, 1, None]:
        assert parse_token(bad) is None
    # The secret part is not checked: whatever it holds only hashes to something never stored.
    assert parse_token("AAAA." + "+" * 43) is not None


def test_public_id_is_independent_of_the_token() -> None:
    ids = {new_record("alice", LIFE, 0.0, remember=False, metadata=None).id for _ in range(200)}
    assert len(ids) == 200 and all(len(i) == 22 for i in ids)  # 128 random bits each


def test_merge_data() -> None:
    assert merge_data({"a": 1, "b": 2}, {"b": None, "c": [3]}) == {"a": 1, "c": [3]}


def test_configuration_is_checked() -> None:
    store = open_store("memory://")
    with pytest.raises(ConfigurationError):
        gatepass.Sessions(store, idle_timeout=0)
    with pytest.raises(ConfigurationError):
        gatepass.Sessions(store, idle_timeout=100, absolute_timeout=50)
    with pytest.raises(ConfigurationError):
        gatepass.Sessions(store, idle_timeout=100, touch_interval=100)


def test_store_urls() -> None:
    assert open_store("memory://").kind == "memory"
    assert open_store("sqlite://:memory:").path == ":memory:"
    assert open_store("sqlite:///rel/x.db").path == "rel/x.db"
    assert open_store("sqlite:////abs/x.db?prefix=app_").table("sessions") == '"app_sessions"'
    assert open_async_store("memory://").kind == "memory"
    for bad in ["nope", "ftp://x", "sqlite://host/x.db", "sqlite:///x.db?prefix=a;drop"]:
        with pytest.raises(ConfigurationError):
            open_store(bad)
    with pytest.raises(ConfigurationError):
        open_store("postgresql://localhost/db?schema=bad-name")
    with pytest.raises(ConfigurationError):
        open_store("redis://localhost/0?prefix={tag}")


def test_sqlite_in_a_missing_directory_is_a_configuration_error(tmp_path: Path) -> None:
    """Not "unable to open database file" as an outage: the caller named a path that cannot
    exist yet, and the error says which."""
    missing = tmp_path / "nonexistent-dir"
    store = open_store(f"sqlite:///{missing}/x.db")
    with pytest.raises(ConfigurationError, match="nonexistent-dir") as caught:
        store.setup()
    assert "does not exist" in str(caught.value)
    assert not missing.exists()  # nothing was created on the way
    relative = open_store("sqlite:///nonexistent-dir/x.db")
    with pytest.raises(ConfigurationError, match=r"nonexistent-dir/x\.db"):
        gatepass.Sessions(relative).create("alice")


def test_sqlite_memory_store_works() -> None:
    store = open_store("sqlite://:memory:")
    store.setup()
    sessions = gatepass.Sessions(store)
    token, rec = sessions.create("alice")
    assert sessions.get(token) == rec
    store.close()


def test_translate_errors_maps_driver_exceptions() -> None:
    import sqlite3

    with pytest.raises(StoreUnavailable), translate_errors("sqlite"):
        raise sqlite3.OperationalError("database is locked")
    with pytest.raises(StoreError), translate_errors("sqlite"):
        raise sqlite3.OperationalError("no such table: x")
    with pytest.raises(StoreUnavailable), translate_errors("x"):
        raise ConnectionRefusedError()
    with pytest.raises(KeyError), translate_errors("x"):
        raise KeyError("not a driver error")


@pytest.mark.parametrize(
    ("module", "url", "extra"),
    [
        ("redis", "redis://127.0.0.1:6379/15", "gatepass[redis]"),
        ("psycopg", "postgresql://x/y", "gatepass[postgres]"),
    ],
)
def test_missing_driver_names_the_extra(module: str, url: str, extra: str) -> None:
    """Hide the driver from a fresh interpreter: opening the store names the extra to install."""
    code = (
        f"import sys; sys.modules[{module!r}] = None\n"
        "from gatepass.stores import open_store\n"
        "from gatepass.errors import MissingDependency\n"
        "try:\n"
        f"    open_store({url!r})\n"
        "except MissingDependency as exc:\n"
        "    print('MISSING', exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT / "src")},
        check=True,
    ).stdout
    assert out.startswith("MISSING") and f"pip install '{extra}'" in out
    assert issubclass(MissingDependency, ConfigurationError)


def test_import_gatepass_needs_no_driver() -> None:
    code = (
        "import sys\n"
        "for m in ('redis', 'psycopg', 'psycopg_pool'): sys.modules[m] = None\n"
        "import gatepass\n"
        "s = gatepass.Sessions(gatepass.open_store('memory://'))\n"
        "t, r = s.create('alice'); assert s.get(t) == r; print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT / "src")},
        check=True,
    ).stdout
    assert out.strip() == "ok"


def test_memory_store_purges_by_itself() -> None:
    """Dead sessions never pile up: creations trigger an amortised purge (once per 1000 creations
    at least, from a random start, so that short-lived processes purge too)."""
    now = [0.0]
    sessions = gatepass.Sessions(
        open_store("memory://"),
        idle_timeout=10,
        absolute_timeout=20,
        touch_interval=1,
        clock=lambda: now[0],
        max_sessions=None,  # a thousand sessions of one user, all kept
    )
    for _ in range(999):
        sessions.create("alice")
    now[0] = 100.0  # all 999 are dead now
    tokens = [sessions.create("bob")[0] for _ in range(1000)]  # a purge falls in here
    assert sessions.store.purge_expired(now[0]) == 0  # the dead ones are gone already
    assert sessions.list("alice") == [] and len(sessions.list("bob")) == 1000
    assert sessions.get(tokens[0]) is not None


# --- input validation: every bad argument is a ConfigurationError, never a raw exception ----------

TIMEOUT_FIELDS = {
    "idle": "idle_timeout",
    "absolute": "absolute_timeout",
    "idle_remember": "remember_idle_timeout",
    "absolute_remember": "remember_absolute_timeout",
    "touch_interval": "touch_interval",
}
GOOD_TIMEOUTS = {"idle": 100, "absolute": 1000, "idle_remember": 500, "absolute_remember": 5000}
NOT_SECONDS: list[Any] = [
    "x",
    "30",
    None,
    True,
    False,
    b"30",
    [30],
    complex(30, 0),
    math.nan,
    math.inf,
    -math.inf,
    Decimal("NaN"),
    Decimal("sNaN"),
    Decimal("Infinity"),
    10**400,  # float() would raise OverflowError
    MAX_TIMEOUT * 2,
    -1,
]


@pytest.mark.parametrize("field", list(TIMEOUT_FIELDS))
@pytest.mark.parametrize("bad", NOT_SECONDS, ids=repr)
def test_lifetimes_refuse_anything_but_finite_seconds(field: str, bad: Any) -> None:
    fields: dict[str, Any] = {**GOOD_TIMEOUTS, "touch_interval": 10, field: bad}
    with pytest.raises(ConfigurationError, match=TIMEOUT_FIELDS[field]):
        Lifetimes(**fields)


@pytest.mark.parametrize("field", list(TIMEOUT_FIELDS))
@pytest.mark.parametrize("bad", NOT_SECONDS, ids=repr)
def test_sessions_constructors_refuse_bad_timeouts(field: str, bad: Any) -> None:
    """Both front-ends, before anything else happens: no ValueError/TypeError from float()."""
    argument = TIMEOUT_FIELDS[field]
    if bad is None and field == "touch_interval":
        pytest.skip("touch_interval=None asks for the default (see the test below)")
    with pytest.raises(ConfigurationError, match=argument):
        gatepass.Sessions(open_store("memory://"), **{argument: bad})
    with pytest.raises(ConfigurationError, match=argument):
        gatepass.AsyncSessions(open_async_store("memory://"), **{argument: bad})


def test_default_touch_interval_follows_the_idle_timeout() -> None:
    """Short idle timeouts need no touch_interval of their own: the default is a tenth of the
    shorter idle timeout, at most a minute; an explicit one is still checked against them."""
    short = gatepass.Sessions(open_store("memory://"), idle_timeout=60, absolute_timeout=600)
    assert short.lifetimes.touch_interval == 6.0
    assert gatepass.Sessions(open_store("memory://")).lifetimes.touch_interval == 60.0
    remember = gatepass.AsyncSessions(
        open_async_store("memory://"), remember_idle_timeout=30, remember_absolute_timeout=60
    )
    assert remember.lifetimes.touch_interval == 3.0
    with pytest.raises(ConfigurationError, match="touch_interval must be shorter"):
        gatepass.Sessions(
            open_store("memory://"), idle_timeout=60, absolute_timeout=600, touch_interval=60
        )


def test_lifetimes_zero_and_limits() -> None:
    for field in GOOD_TIMEOUTS:
        with pytest.raises(ConfigurationError, match="must be positive"):
            Lifetimes(**{**GOOD_TIMEOUTS, "touch_interval": 0, field: 0})
    zero = Lifetimes(**GOOD_TIMEOUTS, touch_interval=0)  # renew on every read: allowed
    assert zero.touch_interval == 0.0
    with pytest.raises(ConfigurationError, match="touch_interval must be shorter"):
        Lifetimes(**GOOD_TIMEOUTS, touch_interval=100)
    with pytest.raises(ConfigurationError, match="touch_interval must be shorter"):
        Lifetimes(
            idle=100, absolute=1000, idle_remember=50, absolute_remember=100, touch_interval=50
        )
    with pytest.raises(ConfigurationError, match="idle timeout longer"):
        Lifetimes(idle=100, absolute=50, idle_remember=50, absolute_remember=100, touch_interval=1)
    longest = Lifetimes(
        idle=MAX_TIMEOUT,
        absolute=MAX_TIMEOUT,
        idle_remember=MAX_TIMEOUT,
        absolute_remember=MAX_TIMEOUT,
        touch_interval=MAX_TIMEOUT / 2,
    )
    assert longest.absolute == MAX_TIMEOUT


def test_lifetimes_store_floats_from_any_real_number() -> None:
    life = Lifetimes(
        idle=100,
        absolute=Fraction(2001, 2),
        idle_remember=Decimal("500.5"),
        absolute_remember=5000.0,
        touch_interval=10,
    )
    values = (life.idle, life.absolute, life.idle_remember, life.absolute_remember)
    assert values == (100.0, 1000.5, 500.5, 5000.0)
    assert all(type(v) is float for v in (*values, life.touch_interval))
    sessions = gatepass.Sessions(open_store("memory://"), idle_timeout=100, touch_interval=10)
    assert type(sessions.lifetimes.idle) is float


@pytest.mark.parametrize(
    "bad",
    ["", "x" * 256, "\ud800", "alice\udfff", "\ud83d\ude00", "\x00", "a\x00b", 5, None, b"alice"],
    ids=repr,
)
def test_check_id_refuses(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="user_id"):
        check_id(bad, "user_id")


def test_check_id_accepts_any_other_text_as_a_plain_str() -> None:
    class Name(str):
        __slots__ = ()

    for good in ["a", "x" * 255, "ünïcødé 😀", "tab\there", "\x01", "\\u0000", Name("bob")]:
        checked = check_id(good, "user_id")
        assert checked == good and type(checked) is str


def _nested(depth: int, leaf: Any = 1) -> dict[str, Any]:
    """A JSON object nesting ``depth`` levels (the top-level object is level 1)."""
    value: Any = leaf
    for level in range(depth - 1):
        value = {"k": value} if level % 2 else [value]
    return {"k": value}


def _deep(kind: type, depth: int) -> Any:
    root: Any = kind()
    node = root
    for _ in range(depth):
        child: Any = kind()
        if kind is dict:
            node["k"] = child
        else:
            node.append(child)
        node = child
    return root


BAD_JSON = [
    pytest.param({"\ud800": 1}, id="surrogate-key"),
    pytest.param({"k": "\ud800"}, id="surrogate-value"),
    pytest.param({"k": ["ok", {"\udfff": 1}]}, id="nested-surrogate-key"),
    pytest.param({"k": "a\x00b"}, id="nul-value"),
    pytest.param({"a\x00": 1}, id="nul-key"),
    pytest.param({"k": {"n": ["\x00"]}}, id="nested-nul"),
    pytest.param({"k": "\\\x00"}, id="backslash-then-nul"),  # dumped as \\\u0000
    pytest.param({"k": math.nan}, id="nan"),
    pytest.param({"k": math.inf}, id="inf"),
    pytest.param({"k": object()}, id="object"),
    pytest.param({"k": {1, 2}}, id="set"),
    pytest.param({"k": 10**5000}, id="int-too-long-for-str"),
    pytest.param({"k": 1e16}, id="float-1e16"),
    pytest.param({"k": [-1e300]}, id="float-minus-1e300"),
    pytest.param({1: "non-str key"}, id="int-key"),
    pytest.param([("k", 1)], id="list"),
    pytest.param("k=1", id="str"),
    pytest.param(None, id="none"),
    pytest.param(5, id="int"),
    pytest.param(_nested(MAX_JSON_DEPTH + 1), id="one-level-too-deep"),
    pytest.param({"k": _deep(dict, 100_000)}, id="deep-dict"),
    pytest.param({"k": _deep(list, 100_000)}, id="deep-list"),
]


@pytest.mark.parametrize("bad", BAD_JSON)
@pytest.mark.parametrize(
    ("limit", "what"), [(MAX_METADATA_BYTES, "metadata"), (MAX_DATA_BYTES, "data")]
)
def test_check_json_refuses(bad: Any, limit: int, what: str) -> None:
    with pytest.raises(ConfigurationError, match=what):
        check_json(bad, limit, what)


def test_check_json_refuses_circular_values() -> None:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    with pytest.raises(ConfigurationError):
        check_json({"k": loop}, MAX_DATA_BYTES, "data")


def test_check_json_keeps_what_every_store_keeps() -> None:
    # The six characters \u0000 (and other backslashes) are text, not NUL: kept as they are.
    for text in ["\\u0000", "\\\\u0000", "\\", "\\\\\\u0000x", "\x01\x1f", "😀"]:
        assert check_json({"k": text, text: 1}, MAX_DATA_BYTES, "data") == {"k": text, text: 1}
    deepest = _nested(MAX_JSON_DEPTH)
    assert check_json(deepest, MAX_DATA_BYTES, "data") == deepest
    numbers = {"big": 2**70, "near": 9999999999999998.0, "tiny": 5e-324, "neg": -0.0}
    checked = check_json(numbers, MAX_DATA_BYTES, "data")
    assert checked == numbers and type(checked["near"]) is float
    assert math.copysign(1.0, checked["neg"]) == 1.0  # -0.0 is stored as 0.0 everywhere
    assert isinstance(checked, FrozenDict)
    proxy = types.MappingProxyType({"k": [1, {"n": None}]})  # any Mapping, not only a dict
    assert check_json(proxy, MAX_DATA_BYTES, "data") == {"k": [1, {"n": None}]}


def test_check_json_size_limit_is_unchanged() -> None:
    """At most ``limit`` bytes of compact UTF-8 JSON, exactly as before."""
    overhead = len('{"k":""}')
    fits = {"k": "é" * ((MAX_METADATA_BYTES - overhead) // 2)}
    assert check_json(fits, MAX_METADATA_BYTES, "metadata") == fits
    exact = {"k": "x" * (MAX_METADATA_BYTES - overhead)}
    assert check_json(exact, MAX_METADATA_BYTES, "metadata") == exact
    with pytest.raises(ConfigurationError, match="larger than"):
        check_json({"k": "x" * (MAX_METADATA_BYTES - overhead + 1)}, MAX_METADATA_BYTES, "metadata")


BAD_URLS = [
    ("sqlite:///x.db?busy_timeout=abc", "busy_timeout"),
    ("sqlite:///x.db?busy_timeout=", "busy_timeout"),
    ("sqlite:///x.db?busy_timeout=nan", "busy_timeout"),
    ("sqlite:///x.db?busy_timeout=inf", "busy_timeout"),
    ("sqlite:///x.db?busy_timeout=1e400", "busy_timeout"),
    ("sqlite:///x.db?busy_timeout=-1", "busy_timeout"),
    ("sqlite:///x.db?busy_timeout=1&busy_timeout=2", "busy_timeout"),
    ("sqlite:///x.db?synchronous=bogus", "synchronous"),
    ("sqlite:///x.db?synchronous=", "synchronous"),
    ("sqlite:///x.db?synchronus=full", "synchronus"),
    ("sqlite:///x%00.db", "NUL"),
    ("sqlite://:memory:?busy_timeout=x", "busy_timeout"),
    ("memory://?bogus=1", "bogus"),
    ("memory://[::1", "IPv6"),
    ("redis://127.0.0.1:abc/15", "Port"),
    ("redis://127.0.0.1:99999/15", "Port"),
    ("redis+cluster://127.0.0.1:abc", "Port"),
    ("redis://[::1/15", "IPv6"),
    ("redis://127.0.0.1:6379/abc", "database number"),
    ("redis://127.0.0.1:6379/15?db=x", "db"),
    ("redis://127.0.0.1:6379?cluster=on", "cluster"),
    ("redis://127.0.0.1:6379?cluster=1&cluster=0", "cluster"),
    ("redis://127.0.0.1:6379/15?socket_timeout=abc", "socket_timeout"),
    ("redis://127.0.0.1:6379/15?socket_timeout=", "socket_timeout"),
    ("redis://127.0.0.1:6379/15?socket_timeout=-1", "socket_timeout"),
    ("redis://127.0.0.1:6379/15?socket_timeout=inf", "socket_timeout"),
    ("redis://127.0.0.1:6379/15?socket_connect_timeout=nan", "socket_connect_timeout"),
    ("redis://127.0.0.1:6379/15?pool_timeout=inf", "pool_timeout"),
    ("redis://127.0.0.1:6379/15?pool_timeout=nan", "pool_timeout"),
    ("redis://127.0.0.1:6379/15?max_connections=abc", "max_connections"),
    ("redis://127.0.0.1:6379/15?max_connections=0", "max_connections"),
    ("redis://127.0.0.1:6379/15?max_connections=" + "9" * 5000, "max_connections"),
    ("redis://127.0.0.1:6379/15?socket_timeout=1&socket_timeout=x", "socket_timeout"),
    ("redis://127.0.0.1:6379/15?health_check_interval=x", "health_check_interval"),  # redis-py's
    ("postgresql://u@127.0.0.1:abc/db", "port"),
    ("postgresql://u@127.0.0.1:99999/db", "port"),
    ("postgresql://u@h1:5432,h2:0/db", "port"),
    ("postgresql://u@[::1/db", "IPv6"),
    ("postgresql://u@h/db?bogus=1", "bogus"),
    ("postgresql://u@h/db?pool_min_size=abc", "pool_min_size"),
    ("postgresql://u@h/db?pool_min_size=-1", "pool_min_size"),
    ("postgresql://u@h/db?pool_max_size=0", "pool_max_size"),
    ("postgresql://u@h/db?pool_min_size=5&pool_max_size=2", "pool_min_size"),
    ("postgresql://u@h/db?pool_timeout=nan", "pool_timeout"),
    ("postgresql://u@h/db?pool_timeout=inf", "pool_timeout"),
    ("postgresql://u@h/db?pool_timeout=-1", "pool_timeout"),
    ("postgresql://u@h/db?timeout=0", "timeout"),
    ("postgresql://u@h/db?timeout=nan", "timeout"),
    ("postgresql://u@h/db?timeout=abc", "timeout"),
    ("postgresql://u@h/db?timeout=1&timeout=2", "timeout"),
    ("postgresql://u@h/d\ud800b", "valid Unicode text without NUL"),
]


@pytest.mark.parametrize(("url", "named"), BAD_URLS, ids=[u for u, _ in BAD_URLS])
def test_malformed_store_urls_name_what_is_wrong(url: str, named: str) -> None:
    """Nothing is opened or connected: the URL is refused first, by both openers alike."""
    for opener in (open_store, open_async_store):
        with pytest.raises(ConfigurationError, match=named) as caught:
            opener(url)
        assert type(caught.value) is ConfigurationError  # not a driver ValueError


def test_a_bad_postgres_url_never_echoes_the_password() -> None:
    with pytest.raises(ConfigurationError) as caught:
        open_store("postgresql://u:s3cret@[::1/db?pool_max_size=2")
    assert "s3cret" not in str(caught.value)
    with pytest.raises(ConfigurationError) as caught:
        open_store("postgresql://u:s3cret@h/db?bogus=1")
    assert "s3cret" not in str(caught.value)
    with pytest.raises(ConfigurationError) as caught:  # libpq quotes the bad token: the password
        open_store("postgresql://app:hunter%zz2@db/app")
    assert "hunter" not in str(caught.value) and "zz2" not in str(caught.value)


def test_well_formed_store_urls_still_open(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/x.db?busy_timeout=0.2&synchronous=full&prefix=")
    assert (store.busy_timeout, store.synchronous) == (0.2, "FULL")
    assert store.table("sessions") == '"gatepass_sessions"'  # an empty prefix keeps the default
    store.close()
    assert open_store("sqlite://:memory:?busy_timeout=0").busy_timeout == 0.0
    assert open_store("memory://?prefix=").prefix == "gatepass:"
    redis_url = "redis://127.0.0.1:6379/15?socket_timeout=1.5&max_connections=5&pool_timeout=0"
    for url in [
        redis_url,
        "redis://127.0.0.1/",
        "redis://127.0.0.1:6379",
        "redis://127.0.0.1:6379?cluster=FALSE",
        "unix:///tmp/r.sock?db=2",
        "redis://127.0.0.1:6379/15/",  # redis-py reads a trailing slash as the same database
    ]:
        store = open_async_store(url)  # no connection is made before the first command
        asyncio.run(store.close())
        open_store(url).close()  # the blocking store too (unix:// lost its // before)
    # libpq multi-host URLs and libpq's own options pass through (opened lazily: no connection).
    url = "postgresql://u@h1:5432,h2:5433/db?pool_min_size=0&pool_max_size=2&connect_timeout=3"
    store = open_async_store(url)
    assert (store.pool_min_size, store.pool_max_size) == (0, 2)
    asyncio.run(store.close())
    # ?timeout= bounds each round trip and sets the server's statement_timeout; libpq's own
    # connect_timeout and options are kept (a statement_timeout of the URL's own wins).
    store = open_store(f"{url}&timeout=2.5&options=-c%20work_mem%3D8MB")
    assert store.timeout == store.operation_timeout == 2.5
    assert store.connect_kwargs["options"] == "-c work_mem=8MB -c statement_timeout=2500"
    assert "connect_timeout" not in store.connect_kwargs  # the URL's 3 s stays
    store.close()
    store = open_store("postgresql://u@h/db?options=-c%20statement_timeout%3D100")
    assert "options" not in store.connect_kwargs and store.connect_kwargs["connect_timeout"] == 5
    store.close()


def test_a_hostless_libpq_url_reaches_the_server(postgres_url: str) -> None:
    """``postgresql:///db?host=...`` is a standard libpq form; rebuilding it with urlunsplit had
    dropped its ``//``, so the driver read it as garbage."""
    schema = f"gptest_{secrets.token_hex(4)}"
    store = open_store(f"postgresql:///test?host=127.0.0.1&port=5432&user=postgres&schema={schema}")
    try:
        store.setup()
        sessions = gatepass.Sessions(store)
        token, _ = sessions.create("alice")
        assert sessions.get(token) is not None
    finally:
        with store.connection() as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        store.close()


def test_libpq_options_and_the_timeout_reach_the_server(postgres_url: str) -> None:
    """libpq options pass through as written (a space stays a space, not "+") and ``?timeout=``
    becomes the server's ``statement_timeout``."""
    url = f"{postgres_url}?options=-c%20work_mem%3D8MB&application_name=gp%20test&timeout=3"
    store = open_store(url)
    try:
        with store.connection() as conn:
            shown = [
                conn.execute(f"SHOW {name}").fetchone()[0]
                for name in ("work_mem", "application_name", "statement_timeout")
            ]
        assert shown == ["8MB", "gp test", "3s"]
    finally:
        store.close()


def test_store_outages_are_not_mistaken_for_bad_urls() -> None:
    """A Redis Cluster client connects while it is built: that failure stays StoreUnavailable."""
    with pytest.raises(StoreUnavailable):
        open_store("redis+cluster://127.0.0.1:1")


def test_front_ends_refuse_a_store_access_tokens_or_clock_of_the_wrong_kind() -> None:
    """Sessions on an asyncio store would return a coroutine from get(): truthy, so a request
    would pass as logged in. Every such mix-up is refused when the object is built."""
    sync_store, async_store = open_store("memory://"), open_async_store("memory://")
    key = gatepass.Key.generate("HS256")
    sync_access = gatepass.AccessTokens(
        key, issuer="i", audience="a", revocation="denylist", store=sync_store
    )
    cases = [
        lambda: gatepass.Sessions(None),  # type: ignore[arg-type]
        lambda: gatepass.Sessions(object()),  # type: ignore[arg-type]
        lambda: gatepass.Sessions(async_store),  # type: ignore[arg-type]
        lambda: gatepass.AsyncSessions(sync_store),  # type: ignore[arg-type]
        lambda: gatepass.Sessions(sync_store, access_tokens=5),  # type: ignore[arg-type]
        lambda: gatepass.AsyncSessions(async_store, access_tokens=sync_access),  # type: ignore[arg-type]
        lambda: gatepass.Sessions(sync_store, clock=5),  # type: ignore[arg-type]
    ]
    for build in cases:
        with pytest.raises(ConfigurationError):
            build()
    assert gatepass.Sessions(sync_store, access_tokens=sync_access).access_tokens is sync_access
    sync_access.close()


@pytest.mark.parametrize("flag", ["false", 0, 1, None, "yes"])
def test_flags_must_be_bools(flag: object) -> None:
    sessions = gatepass.Sessions(open_store("memory://"))
    token, _ = sessions.create("alice")
    with pytest.raises(ConfigurationError):
        sessions.create("alice", remember=flag)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        sessions.rotate(token, reauthenticated=flag)  # type: ignore[arg-type]
    assert len(sessions.list("alice")) == 1 and sessions.get(token) is not None


def test_revoke_by_id_answers_false_for_anything_that_is_not_an_id() -> None:
    """No driver ever sees a malformed public id (a lone surrogate raised UnicodeEncodeError on
    three backends; NUL was a StoreError on PostgreSQL only)."""
    sessions = gatepass.Sessions(open_store("memory://"))
    token, record = sessions.create("alice")
    for bad in [
        "\ud800" * 22,
        "\x00" * 22,
        "a" * 21,
        "a" * 23,
        "é" * 22,
        "a+b/" * 5 + "aa",
        22,
        None,
    ]:
        assert sessions.revoke(bad, user_id="alice") is False  # type: ignore[arg-type]
    assert sessions.get(token) is not None
    assert sessions.revoke(record.id, user_id="alice") is True and sessions.get(token) is None


def test_reassigning_the_clock_or_the_store_reaches_the_hot_path() -> None:
    """get() binds the store's read and a spec closure over the clock once; assigning either
    must rebind them (a stale clock would let an expired session pass)."""
    now = [1000.0]
    sessions = gatepass.Sessions(
        open_store("memory://"),
        idle_timeout=60,
        absolute_timeout=600,
        touch_interval=10,
        clock=lambda: now[0],
    )
    token, _ = sessions.create("alice")
    sessions.clock = lambda: 1000.0 + 120  # past the idle timeout
    assert sessions.get(token) is None
    other = open_store("memory://")
    sessions.store = other
    token2, _ = sessions.create("bob")
    assert sessions.get(token2) is not None and sessions.store is other
    with pytest.raises(ConfigurationError):
        sessions.store = open_async_store("memory://")  # type: ignore[assignment]
    with pytest.raises(ConfigurationError):
        sessions.clock = 5  # type: ignore[assignment]
    assert sessions.get(token2) is not None  # a refused assignment changed nothing
