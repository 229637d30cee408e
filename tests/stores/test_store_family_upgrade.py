"""A refresh family written before families kept their login (scopes, ``auth_time``, DPoP key)
still reads and rotates after the upgrade: ``setup()`` adds the missing SQL columns, and a Redis
hash without the new fields reads as an unbound family with no scopes."""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path

import psycopg
import redis

from gatepass import AccessTokens, KeyRing, RefreshTokens
from gatepass.stores import open_store
from gatepass.stores.urls import postgres_parts
from gatepass.strategies._refresh_policy import parse
from gp_testkit import drop_redis_prefix

OLD_FAMILIES = """CREATE TABLE {name} (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, sid TEXT,
    created_at REAL NOT NULL, last_used_at REAL NOT NULL, generation INTEGER NOT NULL,
    rotated_at REAL NOT NULL, revoked {flag} NOT NULL, expires_at REAL NOT NULL)"""


def _rotates(url: str) -> None:
    """setup() on the old schema, then a whole family's life with the new fields."""
    store = open_store(url)
    try:
        store.setup()
        store.setup()  # idempotent on the upgraded table too
        access = AccessTokens(KeyRing.generate("ES256"), issuer="https://i.example", audience="a")
        refresh = RefreshTokens(store, access, secret=b"s" * 32)
        r0, _ = refresh.start("u1", scopes=("read",), jkt="k" * 43)
        r1, a1 = refresh.rotate(r0, jkt="k" * 43)
        parsed = parse(r1)
        assert parsed is not None
        family = store.family_of(*parsed)
        assert family is not None and family.scopes == ("read",) and family.jkt == "k" * 43
        assert a1.count(".") == 2
    finally:
        store.close()


def test_sqlite_table_from_before_gains_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute(OLD_FAMILIES.format(name="gatepass_refresh_families", flag="INTEGER"))
    _rotates(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(gatepass_refresh_families)")}
    assert {"scopes", "auth_time", "jkt"} <= columns


def test_postgres_table_from_before_gains_the_columns(postgres_url: str) -> None:
    schema = "gp_upgrade_" + secrets.token_hex(4)
    conninfo, _ = postgres_parts(postgres_url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(
            OLD_FAMILIES.format(name=f'"{schema}"."gatepass_refresh_families"', flag="boolean")
        )
    try:
        _rotates(f"{postgres_url}?schema={schema}")
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_redis_family_from_before_reads_as_unbound(redis_url: str) -> None:
    prefix = f"gpup{secrets.token_hex(4)}:"
    url = f"{redis_url}?prefix={prefix}"
    store = open_store(url)
    try:
        access = AccessTokens(KeyRing.generate("ES256"), issuer="https://i.example", audience="a")
        refresh = RefreshTokens(store, access, secret=b"s" * 32)
        r0, _ = refresh.start("u1", scopes=("read",), jkt="k" * 43)
        parsed = parse(r0)
        assert parsed is not None
        _, tag, family_id = parsed
        client = redis.Redis.from_url(redis_url)
        client.hdel(f"{prefix}{{{tag}}}:rf:{family_id}", "p", "a", "k")  # as the old script wrote
        client.close()
        family = store.family_of(*parsed)
        assert family is not None
        assert (family.scopes, family.auth_time, family.jkt) == ((), None, None)
        _, a1 = refresh.rotate(r0)
        assert "scope" not in access.verify(a1)
    finally:
        store.close()
        drop_redis_prefix(url)
