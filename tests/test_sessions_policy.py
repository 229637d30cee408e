"""The session policy as pure functions, the token format, configuration and store URLs.

Backend behaviour is in tests/stores/ (the conformance suite); this file needs no server.
"""

from __future__ import annotations

import hashlib
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import gatepass
from gatepass.errors import ConfigurationError, MissingDependency
from gatepass.stores import open_async_store, open_store
from gatepass.stores.base import StoreError, StoreUnavailable, translate_errors
from gatepass.stores.records import (
    Lifetimes,
    SessionRecord,
    hash_token,
    is_live,
    merge_data,
    new_record,
    new_token,
    next_expiry,
    parse_token,
    routing_tag,
    touch_due,
    touch_spec,
    touched,
)

ROOT = Path(__file__).resolve().parent.parent
LIFE = Lifetimes(
    idle=100, absolute=1000, idle_remember=500, absolute_remember=5000, touch_interval=10
)


def record(**changes: float) -> SessionRecord:
    return new_record("alice", LIFE, 0.0, remember=False, metadata=None)._replace(**changes)


def test_is_live_boundaries() -> None:
    r = record()
    assert is_live(r, touch_spec(LIFE, 99.999))
    assert not is_live(r, touch_spec(LIFE, 100.0))  # now >= expires_at is expired
    late = record(last_seen_at=950.0, expires_at=1000.0)
    assert not is_live(late, touch_spec(LIFE, 1000.0))  # the absolute lifetime
    shorter = Lifetimes(
        idle=10, absolute=1000, idle_remember=10, absolute_remember=1000, touch_interval=1
    )
    assert not is_live(r, touch_spec(shorter, 10.0))  # configuration shortened after creation


def test_touch_throttle_and_next_expiry() -> None:
    r = record()
    assert not touch_due(r, touch_spec(LIFE, 9.99))
    assert touch_due(r, touch_spec(LIFE, 10.0))
    spec = touch_spec(LIFE, 50.0)
    assert next_expiry(r, spec) == 150.0
    assert touched(r, spec).last_seen_at == 50.0
    near_end = record(last_seen_at=940.0, expires_at=1000.0)
    assert next_expiry(near_end, touch_spec(LIFE, 950.0)) == 1000.0  # capped by absolute
    assert not touch_due(r, touch_spec(LIFE, 100.0))  # a dead session is never renewed


def test_remember_me_uses_its_own_lifetimes() -> None:
    r = new_record("alice", LIFE, 0.0, remember=True, metadata={"ua": "x"})
    assert (r.expires_at, r.absolute_expires_at) == (500.0, 5000.0)
    assert is_live(r, touch_spec(LIFE, 400.0))


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


def test_the_token_hash_is_sha256_whichever_implementation_serves_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hot path hashes with CPython's built-in SHA-256 when it has one (OpenSSL's costs
    several times more per call there); the digest must be SHA-256's, byte for byte, and an
    interpreter without the module, or with a wrong one, falls back to hashlib's."""
    from gatepass.stores import records

    for size in (0, 1, 48, 55, 56, 64, 1000):
        data = secrets.token_bytes(size)
        assert records.sha256(data).digest() == hashlib.sha256(data).digest()
    assert records.sha256(b"abc").hexdigest() == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )

    class Broken:
        @staticmethod
        def sha256(data: bytes) -> Any:
            return hashlib.md5(data)  # answers, but wrongly: must never be trusted

    def no_builtin(name: str) -> Any:
        if name == "_sha2":
            raise ImportError(name)
        return Broken

    monkeypatch.setattr(records.importlib, "import_module", no_builtin)
    assert records._fastest_sha256() is hashlib.sha256


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
    """Dead sessions never pile up: creations trigger an amortised purge."""
    now = [0.0]
    sessions = gatepass.Sessions(
        open_store("memory://"),
        idle_timeout=10,
        absolute_timeout=20,
        touch_interval=1,
        clock=lambda: now[0],
    )
    for _ in range(999):
        sessions.create("alice")
    now[0] = 100.0  # all 999 are dead now
    token, _ = sessions.create("alice")  # the 1000th creation purges
    assert len(sessions.store.table("sessions")) == 1
    assert [r.id for r in sessions.list("alice")] == [sessions.get(token).id]  # type: ignore[union-attr]
