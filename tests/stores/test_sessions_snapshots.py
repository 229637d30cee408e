"""Records are immutable snapshots on every backend, through both APIs.

The memory store returns the very record it holds, and the SQL stores share decoded JSON through
a cache, so a caller that could mutate ``record.metadata`` or ``record.data`` (or anything nested
in them) would change the session for every later reader, without a write, a size check or a
race-safe update. Each test performs that mutation and checks that it fails and changed nothing.
"""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from gp_session_harness import Harness

from gatepass.errors import StoreError
from gatepass.stores.jsontext import LOADED_JSON, load_json_object
from gatepass.stores.records import EMPTY, FrozenDict, FrozenList

METADATA = {"ua": "Firefox on Linux", "ip": "192.0.2.1", "tags": ["a", {"b": [1]}]}
DATA = {"theme": "dark", "cart": [1, 2], "nested": {"a": []}}


def attacks(record: Any) -> list[Callable[[], object]]:
    """Every way of changing a record's JSON in place that a caller might try."""
    meta, data = record.metadata, record.data
    return [
        lambda: meta.__setitem__("ua", "evil"),
        lambda: meta.update(ua="evil"),
        lambda: meta.setdefault("admin", True),
        lambda: meta.pop("ua"),
        meta.popitem,
        meta.clear,
        lambda: meta.__delitem__("ip"),
        lambda: meta.__ior__({"admin": True}),
        lambda: meta["tags"].append("evil"),
        lambda: meta["tags"].__setitem__(0, "evil"),
        lambda: meta["tags"].__iadd__(["evil"]),
        meta["tags"].sort,
        lambda: meta["tags"][1].__setitem__("b", "evil"),
        lambda: meta["tags"][1]["b"].append(2),
        lambda: data.__setitem__("theme", "light"),
        lambda: data["cart"].extend([3]),
        data["cart"].pop,
        lambda: data["nested"]["a"].append("x"),
        lambda: data["nested"].update(b=1),
    ]


async def test_records_cannot_be_changed_in_place(harness: Harness) -> None:
    h = harness
    token, created = await h.create("alice", metadata=METADATA)
    updated = await h.update(token, DATA)
    got = await h.get(token)
    listed = (await h.list("alice"))[0]
    for record in (updated, got, listed):
        assert record is not None
        for attack in attacks(record):
            with pytest.raises(TypeError, match="read-only"):
                attack()
    for attack in attacks(created._replace(data=updated.data)):
        with pytest.raises(TypeError):
            attack()
    # Nothing changed, for this reader or any later one (the memory store shares its record).
    again = await h.get(token)
    assert again is not None
    assert again.metadata == METADATA and again.data == DATA
    assert [r.metadata for r in await h.list("alice")] == [METADATA]


async def test_snapshots_still_behave_like_json(harness: Harness) -> None:
    h = harness
    token, _ = await h.create("alice", metadata=METADATA)
    await h.update(token, DATA)
    record = await h.get(token)
    assert record is not None
    assert isinstance(record.metadata, dict) and isinstance(record.data["cart"], list)
    assert json.loads(json.dumps(record.metadata)) == METADATA
    assert json.loads(json.dumps(record.data)) == DATA
    assert pickle.loads(pickle.dumps(record)) == record
    assert copy.deepcopy(record) == record
    mutable = dict(record.data)  # the documented way to get a copy to edit
    mutable["theme"] = "light"
    assert (await h.get(token)).data["theme"] == "dark"
    assert (await h.update(token, mutable)).data["theme"] == "light"


def test_frozen_json_helpers() -> None:
    text = json.dumps(METADATA)
    first, second = load_json_object(text), load_json_object(text)
    assert first == METADATA and first is second  # cached: shared, hence frozen
    assert type(first) is FrozenDict and type(first["tags"]) is FrozenList
    assert load_json_object("{}") is EMPTY and load_json_object("[1]") is EMPTY
    assert load_json_object(b'{"a": 1}') == {"a": 1}
    assert load_json_object({"a": [1]}) == {"a": [1]}
    assert type(load_json_object({"a": [1]})["a"]) is FrozenList
    assert copy.copy(first) is first
    with pytest.raises(TypeError):
        first["ua"] = "evil"
    assert load_json_object(text)["ua"] == "Firefox on Linux"


async def test_records_look_the_same_whatever_the_backend_holds(harness: Harness) -> None:
    """SQL stores build records straight from their rows (``remember`` as SQLite's 0/1, the JSON
    columns as text, decoded when read). Every view a caller has must show the decoded values,
    and such a record must equal the one ``create`` returned, cache or no cache."""
    h = harness
    token, created = await h.create("alice", remember=True, metadata=METADATA)
    updated = await h.update(token, DATA)
    LOADED_JSON.clear()  # nothing decoded yet: the read below misses the cache
    LOADED_JSON["{}"] = EMPTY
    got = await h.get(token)
    assert got is not None
    expected = created._replace(data=updated.data)
    assert got == expected and expected == got and (got != expected) is False
    assert tuple(got) == tuple(expected) and list(got) == list(expected)
    assert got.remember is True and got[7] is True and got[8] == METADATA and got[-1] == DATA
    *_, remember, metadata, data = got  # unpacking, as with any NamedTuple
    assert (remember, metadata, data) == (True, METADATA, DATA)
    assert type(metadata) is FrozenDict and type(data["cart"]) is FrozenList
    assert got._asdict() == expected._asdict() and got._asdict()["metadata"] == METADATA
    assert got._replace(user_id="bob").metadata == METADATA
    assert "'ua': 'Firefox on Linux'" in repr(got) and '"ua"' not in repr(got)  # decoded
    assert pickle.loads(pickle.dumps(got)) == got and got[1:3] == ("alice", created.created_at)
    assert METADATA in got and got.index(DATA) == 9 and got.count(True) >= 1
    assert got != created and got != tuple(created)  # created has no data yet
    with pytest.raises(TypeError):
        hash(got)


async def test_a_damaged_json_column_is_a_store_error_not_a_crash(harness: Harness) -> None:
    """A row whose metadata is not JSON (damaged by hand or by disk): reading the session raises
    the documented ``StoreError`` (records are decoded when read: fail closed, never a crash)."""
    h = harness
    if h.store.kind not in {"sqlite", "postgres"}:
        pytest.skip("only the SQL stores keep JSON text in a column")
    token, _ = await h.create("alice", metadata={"ua": "Firefox"})
    table = h.store.table("sessions")
    damage = f"UPDATE {table} SET metadata = 'not json' WHERE user_id = 'alice'"
    if h.store.kind == "postgres":  # jsonb refuses invalid text: damage the type instead
        damage = f"UPDATE {table} SET metadata = '\"a string\"'::jsonb WHERE user_id = 'alice'"
    await _execute(h, damage)
    if h.store.kind == "postgres":
        got = await h.get(token)
        assert got is not None and got.user_id == "alice"
        assert got.metadata == {}  # valid JSON that is not an object reads as empty
        assert got.data == {}
    else:
        with pytest.raises(StoreError, match="not valid JSON"):
            await h.get(token)


async def _execute(h: Harness, sql: str) -> None:
    store = h.store
    if store.kind == "sqlite":
        with getattr(store, "sync", store).connection() as conn:
            conn.execute(sql)
    elif h.mode == "async":
        async with store.connection() as conn:
            await conn.execute(sql)
    else:
        with store.connection() as conn:
            conn.execute(sql)
