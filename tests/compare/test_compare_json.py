"""``gatepass compare`` as JSON: every row and column present, and each number what it claims."""

from __future__ import annotations

import json
from typing import Any

import pytest
from comparekit import Run
from rowcheck import check_document

from gatepass.compare.run import Report

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


def test_every_row_and_column(report: Report) -> None:
    doc = json.loads(json.dumps(report.to_json()))  # exactly what --json would print
    check_document(doc)


def test_stores_report_where_the_run_wrote(
    report: Report, redis_url: str, postgres_url: str
) -> None:
    doc = report.to_json()
    stores = {s["name"]: s for s in doc["stores"]}
    assert list(stores) == ["memory", "SQLite", "Redis", "PostgreSQL"]
    assert all(s["measured"] for s in stores.values())
    assert "prefix=gpcompare_" in stores["Redis"]["url"]
    assert "schema=gpcompare_" in stores["PostgreSQL"]["url"]
    assert stores["Redis"]["version"].split()[0].count(".") == 2
    assert _leftovers(doc, redis_url, postgres_url) == (0, 0)  # removed when the run ended


def _leftovers(doc: dict[str, Any], redis_url: str, postgres_url: str) -> tuple[int, int]:
    """Keys under the run's Redis prefix, and whether its PostgreSQL schema still exists."""
    from urllib.parse import parse_qs, urlsplit

    import psycopg
    import redis

    urls = {s["name"]: s["url"] for s in doc["stores"]}
    prefix = parse_qs(urlsplit(urls["Redis"]).query)["prefix"][0]
    schema = parse_qs(urlsplit(urls["PostgreSQL"]).query)["schema"][0]
    client = redis.Redis.from_url(redis_url)
    try:
        keys = len(list(client.scan_iter(match=f"{prefix}*", count=1000)))
    finally:
        client.close()
    with psycopg.connect(postgres_url) as conn:
        found = conn.execute(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s", (schema,)
        ).fetchone()
    assert found is not None
    return keys, int(found[0])


def test_the_command_prints_the_same_document_and_cleans_up(
    gatepass: Run, redis_url: str, postgres_url: str
) -> None:
    result = gatepass(
        "compare", "--quick", "--json", "--redis", redis_url, "--postgres", postgres_url
    )
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    check_document(doc)
    # Everything the run wrote to the shared servers is gone: its key prefix and its schema.
    assert _leftovers(doc, redis_url, postgres_url) == (0, 0)


def test_rounds_and_trials_are_obeyed(gatepass: Run) -> None:
    result = gatepass(
        "compare", "--quick", "--rounds", "4", "--trials", "3", "--json",
        "--redis", "off", "--postgres", "off",
    )  # fmt: skip
    assert result.code == 0, result.err
    rows = {r["id"]: r for r in json.loads(result.out)["rows"]}
    assert rows["session-sqlite"]["verify"]["rounds"] == 4
    assert len(rows["session-sqlite"]["revocation"]["delays_ms"]) == 3
    assert len(rows["replicated-sqlite"]["revocation"]["delays_ms"]) == 3
