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

from gatepass.stores.records import EMPTY, FrozenDict, FrozenList, load_json_object

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
