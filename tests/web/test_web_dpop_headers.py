"""Odd ``DPoP`` and ``Authorization`` headers over real servers (uvicorn, waitress), written byte
for byte: what a server hands the app decides nothing on its own. Surrounding whitespace is not
part of a field value (RFC 9110 5.5); an empty header, two headers (however the server joins
them), an oversized proof or bytes outside ASCII are refused as ``invalid_dpop_proof`` (401),
never a 500; a proof without ``Authorization: DPoP`` authenticates nobody.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_web_dpop_hosts import Client, _exchange, _serve

from gatepass.tokens import dpop

SERVERS = ("uvicorn", "waitress")


@pytest.fixture(params=SERVERS)
def client(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Client]:
    yield from _serve(request.param, sqlite_url)


def _status(client: Client, *headers: str, path: str = "/me") -> tuple[int, bytes]:
    host = client.base.split("//", 1)[1]
    head = _exchange(
        client.base, [f"GET {path} HTTP/1.1", f"Host: {host}", *headers, "Connection: close"]
    )
    return int(head.split(b" ", 2)[1]), head


def _proof(client: Client, path: str = "/me") -> str:
    url = client.base + path
    return dpop.create_proof(client.key, method="GET", url=url, access_token=client.token)


def test_whitespace_around_the_values_is_not_part_of_them(client: Client) -> None:
    status, _ = _status(
        client, f"Authorization: DPoP  {client.token} ", f"DPoP: \t {_proof(client)} \t"
    )
    assert status == 200


@pytest.mark.parametrize(
    "dpop_headers",
    [
        lambda c: ["DPoP: "],
        lambda c: [f"DPoP: {_proof(c)}", f"DPoP: {_proof(c)}"],
        lambda c: ["DPoP: ", f"DPoP: {_proof(c)}"],
        lambda c: [f"DPoP: {_proof(c)}{'A' * 8000}"],
        lambda c: [f"DPoP: {'A' * 60000}"],
        lambda c: [f"DPoP: {_proof(c)}\xe9"],
    ],
    ids=["empty", "two", "empty-then-proof", "oversized", "60k-junk", "latin-1"],
)
def test_odd_proof_headers_are_refused(client: Client, dpop_headers: object) -> None:
    headers = dpop_headers(client)  # type: ignore[operator]
    status, head = _status(client, f"Authorization: DPoP {client.token}", *headers)
    assert status == 401
    assert b'DPoP error="invalid_dpop_proof"' in head


def test_a_proof_alone_authenticates_nobody(client: Client) -> None:
    assert _status(client, f"DPoP: {_proof(client)}")[0] == 401
    assert _status(client, f"DPoP: {_proof(client, '/probe')}", path="/probe")[0] == 200
