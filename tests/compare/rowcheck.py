"""What every row of a comparison must show, checked on its JSON document (in-process or from
``gatepass compare --json``): the same checks, whichever way the table was produced."""

from __future__ import annotations

import math
import sqlite3
import uuid
from typing import Any

import cryptography

from gatepass import jwt
from gatepass.tokens import dpop
from gatepass.tokens.dpop_replay import MemoryReplayCache

STORES = ("memory", "sqlite", "redis", "postgresql")
SHARED = ("sqlite", "redis", "postgresql")
ALGS = ("HS256", "RS256", "ES256", "EdDSA")
ROW_IDS = (
    [f"session-{s}" for s in STORES]
    + [f"jwt-{a.lower()}" for a in ALGS]
    + [f"{d}-{s}" for d in ("denylist", "replicated", "hybrid", "hybrid-dpop") for s in SHARED]
)
PROPERTIES = (
    "state_lives",
    "stolen_credential",
    "xss",
    "csrf",
    "infrastructure",
    "cross_domain",
)
TTL = 900
HYBRIDS = ("hybrid", "hybrid-dpop")


def finite_positive(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def bearer_claims(header: str, scheme: str = "Bearer") -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of the JWT in ``Authorization: <scheme> <token>``."""
    prefix = f"Authorization: {scheme} "
    assert header.startswith(prefix), header
    view = jwt.inspect(header[len(prefix) :])
    return view.header, view.claims


def check_dpop_header(row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A DPoP request's two lines: the bound token, and a proof from the key it is bound to."""
    authorization, _, proof_line = row["header"].partition("\r\n")
    head, claims = bearer_claims(authorization, "DPoP")
    assert proof_line.startswith("DPoP: ")
    proof = proof_line[len("DPoP: ") :]
    token = authorization.split(" ", 2)[2]
    verified = dpop.DPoPVerifier(replay=MemoryReplayCache()).verify(
        proof, method="GET", url="https://api.compare.local/orders", access_token=token
    )
    assert claims["cnf"] == {"jkt": verified.jkt}
    return head, claims


def check_typical_claims(claims: dict[str, Any]) -> None:
    assert claims["iss"] == "https://auth.compare.local"
    assert claims["aud"] == "api"
    uuid.UUID(claims["sub"])  # a realistic user id
    assert claims["exp"] - claims["iat"] == TTL
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16


def check_bytes(row: dict[str, Any]) -> None:
    header = row["header"]
    assert row["bytes_per_request"] == len(header.encode("latin-1"))
    if row["design"] == "session":
        name, _, token = header.partition("=")
        assert name == "Cookie: __Host-session"
        assert len(token) == 48 and token[4] == "."  # "<routing tag>.<256 random bits>"
        return
    dpop_bound = row["design"] == "hybrid-dpop"
    head, claims = check_dpop_header(row) if dpop_bound else bearer_claims(header)
    assert head["typ"] == "at+jwt"
    assert head["alg"] == (row["variant"] if row["design"] == "jwt" else "ES256")
    check_typical_claims(claims)
    if row["design"] in HYBRIDS:
        assert "sid" in claims  # the family id: access tokens belong to one login
        refresh = row["refresh_header"]
        assert refresh.startswith("Cookie: __Secure-refresh=rt_")
        assert row["refresh_bytes"] == len(refresh.encode("latin-1"))
        assert len(refresh.partition("=")[2]) == 74
    else:
        assert claims["scope"] == "read write"
        assert row["refresh_header"] is None


def check_cost(row: dict[str, Any], baseline: dict[str, Any], rounds: int) -> None:
    verify = row["verify"]
    assert verify["what"].startswith(("Sessions.get", "AccessTokens.verify"))
    assert finite_positive(verify["median_us"])
    assert verify["low_us"] <= verify["median_us"] <= verify["high_us"]
    assert verify["rounds"] == rounds and verify["calls_per_round"] >= 1
    ratio = verify["median_us"] / baseline["verify"]["median_us"]
    assert math.isclose(row["ratio_to_baseline"], ratio, rel_tol=1e-9)
    if row["design"] in HYBRIDS:
        assert finite_positive(row["rotate"]["median_us"])
    else:
        assert row["rotate"] is None


def check_measured_revocation(rev: dict[str, Any], trials: int, observer: str) -> None:
    assert rev["revocable"] is True and rev["failure"] is None
    assert len(rev["delays_ms"]) == trials and all(map(finite_positive, rev["delays_ms"]))
    assert finite_positive(rev["median_ms"])
    assert len(rev["revoke_call_ms"]) == trials
    assert rev["observer"] == observer


def check_revocation(row: dict[str, Any], trials: int) -> None:
    rev = row["revocation"]
    design = row["design"]
    observer = (
        "another process"
        if row["variant"] != "memory"
        else ("another thread: memory:// is one process")
    )
    if design == "jwt":
        assert rev["revocable"] is False
        assert rev["valid_until"] == "exp" and rev["ttl_s"] == TTL
        assert rev["still_accepted"] is True  # verified again after the refused logout
        assert "cannot revoke" in rev["reason"]
        assert rev["delays_ms"] == []
        return
    check_measured_revocation(rev, trials, observer)
    if design == "session":
        assert rev["reason"] == "no live session"
    else:
        assert rev["reason"] == "ERR_TOKEN_REVOKED"
    if design in {"session", "denylist", *HYBRIDS}:
        # The store is read on every request: no request that started after the revoking call
        # returned was ever accepted, in the other process.
        assert rev["stale_ms"] == [0.0] * trials
    if design in HYBRIDS:
        access = row["access_revocation"]
        assert access["revocable"] is False and access["valid_until"] == "exp"
        assert access["still_accepted"] is True and access["ttl_s"] == TTL
    else:
        assert row["access_revocation"] is None


def check_copied(row: dict[str, Any]) -> None:
    """Copies of the hybrid's credentials work from anywhere; bound to a DPoP key, nowhere."""
    copied = row["copied"]
    if row["design"] == "hybrid":
        assert copied == [
            {"attempt": "access token as a bearer token", "refused": False, "code": None},
            {"attempt": "refresh cookie without a proof", "refused": False, "code": None},
        ]
    elif row["design"] == "hybrid-dpop":
        assert [(a["attempt"], a["refused"], a["code"]) for a in copied] == [
            ("access token as a bearer token", True, "ERR_DPOP_BINDING_MISMATCH"),
            ("access token with a proof of another key", True, "ERR_DPOP_BINDING_MISMATCH"),
            ("refresh cookie without a proof", True, "ERR_DPOP_BINDING_MISMATCH"),
            ("refresh cookie with a proof of another key", True, "ERR_DPOP_BINDING_MISMATCH"),
        ]
    else:
        assert copied is None


def check_document(doc: dict[str, Any], *, rounds: int = 3, trials: int = 2) -> None:
    """Every row and column present and sane."""
    rows = {row["id"]: row for row in doc["rows"]}
    assert list(rows) == ROW_IDS
    baseline = rows[doc["baseline"]]
    assert doc["baseline"] == "session-sqlite" and baseline["ratio_to_baseline"] == 1.0
    for row in rows.values():
        assert row["measured"] is True, row["not_measured_because"]
        for key in PROPERTIES:
            assert isinstance(row[key], str) and len(row[key]) > 20, (row["id"], key)
        check_bytes(row)
        check_cost(row, baseline, rounds)
        check_revocation(row, trials)
        check_copied(row)
    machine = doc["machine"]
    assert machine["cpu"] and machine["logical_cpus"] >= 1
    assert machine["python"].split()[0] in {"CPython", "PyPy"}
    assert machine["cryptography"] == cryptography.__version__
    assert machine["openssl"].startswith(("OpenSSL", "LibreSSL", "BoringSSL"))
    assert machine["sqlite"] == sqlite3.sqlite_version
    assert set(machine["servers"]) == {"Redis", "PostgreSQL"}
    assert doc["warnings"] == []
