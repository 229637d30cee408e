"""A store used before ``setup()`` says so, instead of a bare driver message."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from gatepass import Sessions, StoreError, open_store


def test_sqlite_without_setup_names_the_fix(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        with pytest.raises(StoreError, match=r"call store\.setup\(\)"):
            Sessions(store).create("u1")
        store.setup()
        token, _ = Sessions(store).create("u1")
        assert Sessions(store).get(token) is not None
    finally:
        store.close()


def test_postgres_without_setup_names_the_fix(postgres_url: str) -> None:
    prefix = "gp_hint_" + secrets.token_hex(4)
    store = open_store(f"{postgres_url}?prefix={prefix}")
    try:
        with pytest.raises(StoreError, match=r"call store\.setup\(\)"):
            Sessions(store).create("u1")
    finally:
        store.close()
