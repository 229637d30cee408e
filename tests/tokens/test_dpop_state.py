"""DPoP state and policy: the replay cache, server nonces, token binding, sync and async fronts.

Replay: a proof accepted once is refused the second time, by every thread racing to use it; a
proof that failed any other check never takes a cache slot; the in-process cache stays bounded
and fails closed when full. Nonces: a missing or stale nonce is ``DPoPNonceRequired`` (the web
layer answers ``use_dpop_nonce``). Binding: a bound token only with a proof from its key.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Any

import pytest
from dpophelp import NOW, URL, Clock, forge_proof, verifier_at

from gatepass import Key, jwt
from gatepass.errors import (
    ClaimError,
    ConfigurationError,
    DPoPBindingMismatch,
    DPoPNonceRequired,
    DPoPProofReplayed,
    InvalidDPoPProof,
    KeyUsageError,
    MalformedToken,
    ReplayCacheFull,
    StoreUnavailable,
)
from gatepass.tokens import dpop
from gatepass.tokens.dpop_replay import MemoryReplayCache

KEY = Key.generate("ES256")


class RecordingCache:
    """A replay cache that remembers every call (and answers like a real one)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []

    def seen(self, proof_id: str, expires_at: float) -> bool:
        self.calls.append((proof_id, expires_at))
        return any(seen_id == proof_id for seen_id, _ in self.calls[:-1])


class AsyncDictCache:
    """An asyncio replay cache (what a store-backed one looks like to the verifier)."""

    def __init__(self, *, fail: bool = False) -> None:
        self.ids: set[str] = set()
        self.fail = fail

    async def seen(self, proof_id: str, expires_at: float) -> bool:
        await asyncio.sleep(0)
        if self.fail:
            raise StoreUnavailable("replay store down")
        if proof_id in self.ids:
            return True
        self.ids.add(proof_id)
        return False


# --- the in-process cache ---------------------------------------------------------------------


def test_memory_cache_remembers_until_expiry() -> None:
    clock = Clock(100)
    cache = MemoryReplayCache(clock=clock)
    assert cache.seen("a", 160) is False
    assert cache.seen("a", 160) is True
    assert cache.seen("b", 130) is False
    clock.now = 129.999
    assert (cache.seen("a", 999), cache.seen("b", 999)) == (True, True)
    clock.now = 130  # b's expiry: gone, and it may be recorded again
    assert cache.seen("b", 190) is False
    clock.now = 160
    assert cache.seen("a", 220) is False
    clock.now = 10_000
    cache.seen("c", 10_060)
    assert len(cache) == 1  # expired entries are purged, not kept


def test_memory_cache_is_bounded_and_fails_closed_when_full() -> None:
    clock = Clock(0)
    cache = MemoryReplayCache(max_entries=3, clock=clock)
    for name in "abc":
        assert cache.seen(name, 60) is False
    with pytest.raises(ReplayCacheFull) as caught:
        cache.seen("d", 60)
    assert isinstance(caught.value, StoreUnavailable)  # the web layer's 503, never "accepted"
    assert cache.seen("a", 60) is True  # a live entry was not evicted to make room
    clock.now = 60
    assert cache.seen("d", 120) is False  # expired ones make room
    # A long run at a steady rate keeps memory at the live window.
    big = MemoryReplayCache(max_entries=1000, clock=clock)
    for i in range(100_000):
        clock.now = i / 100  # 100 proofs a second, each live for 5 s
        assert big.seen(f"id-{i}", clock.now + 5) is False
    assert len(big) <= 501 and len(big._expiries) <= 501


def test_memory_cache_threads_exactly_one_first_use() -> None:
    # Switch threads every microsecond, so that check-then-record without the lock would race.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        cache = MemoryReplayCache()
        answers: list[bool] = []
        barrier = threading.Barrier(16)

        def use() -> None:
            barrier.wait()
            for i in range(2000):
                answers.append(cache.seen(f"id-{i}", 2e9))

        threads = [threading.Thread(target=use) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous)
    assert answers.count(False) == 2000 and answers.count(True) == 2000 * 15


def test_memory_cache_configuration() -> None:
    for bad in (0, -1, 1.5, "10", True):
        with pytest.raises(ConfigurationError):
            MemoryReplayCache(max_entries=bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        MemoryReplayCache(clock=5)  # type: ignore[arg-type]
    cache = MemoryReplayCache()
    for proof_id, expiry in ((5, 1.0), ("a", "1"), ("a", float("nan")), ("a", float("inf"))):
        with pytest.raises(ConfigurationError):
            cache.seen(proof_id, expiry)  # type: ignore[arg-type]


# --- replay through the verifier ----------------------------------------------------------------


def test_a_proof_is_accepted_once() -> None:
    verifier = verifier_at()
    proof = dpop.create_proof(KEY, method="GET", url=URL, now=NOW)
    verifier.verify(proof, method="GET", url=URL)
    with pytest.raises(DPoPProofReplayed):
        verifier.verify(proof, method="GET", url=URL)
    # A second verifier sharing nothing does not know it: the per-process limit, stated in docs.
    verifier_at().verify(proof, method="GET", url=URL)


def test_threads_racing_one_proof_exactly_one_wins() -> None:
    verifier = verifier_at()
    proof = dpop.create_proof(KEY, method="GET", url=URL, now=NOW)
    outcomes: list[str] = []
    barrier = threading.Barrier(16)

    def present() -> None:
        barrier.wait()
        try:
            verifier.verify(proof, method="GET", url=URL)
            outcomes.append("accepted")
        except DPoPProofReplayed:
            outcomes.append("replayed")

    threads = [threading.Thread(target=present) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["accepted"] + ["replayed"] * 15


def test_replay_ids_are_scoped_to_the_key_and_hide_the_jti() -> None:
    cache = RecordingCache()
    verifier = dpop.DPoPVerifier(replay=cache, clock=Clock(), max_age=90)
    other = Key.generate("ES256")
    for signer in (KEY, other):  # two clients that happen to pick the same jti
        verifier.verify(forge_proof(signer, claims={"jti": "same-jti"}), method="GET", url=URL)
    (first, expiry), (second, _) = cache.calls
    assert first != second and expiry == NOW + 90  # kept exactly as long as iat + max_age
    assert all(len(i) == 64 and "same-jti" not in i for i, _ in cache.calls)


def test_failed_proofs_never_take_a_replay_slot() -> None:
    cache = RecordingCache()
    verifier = dpop.DPoPVerifier(replay=cache, clock=Clock())
    jti = {"jti": "victim-jti"}
    failures = [
        (forge_proof(KEY, claims=jti)[:-4] + "AAAA", {}),
        (forge_proof(KEY, claims={**jti, "htm": "POST"}), {}),
        (forge_proof(KEY, claims={**jti, "iat": NOW - 3600}), {}),
        (forge_proof(KEY, claims=jti), {"access_token": "t"}),
        (forge_proof(KEY, claims=jti), {"nonce": "n"}),
    ]
    for proof, extra in failures:
        with pytest.raises(InvalidDPoPProof):
            verifier.verify(proof, method="GET", url=URL, **extra)
    assert cache.calls == []
    verifier.verify(forge_proof(KEY, claims=jti), method="GET", url=URL)  # the real one still works


async def test_async_verifier_with_async_and_memory_caches() -> None:
    for replay in (AsyncDictCache(), MemoryReplayCache(clock=Clock())):
        verifier = dpop.AsyncDPoPVerifier(replay=replay, clock=Clock())
        proof = dpop.create_proof(KEY, method="POST", url=URL, now=NOW)
        result = await verifier.verify(proof, method="POST", url=URL)
        assert result.jkt == KEY.thumbprint()
        with pytest.raises(DPoPProofReplayed):
            await verifier.verify(proof, method="POST", url=URL)
    down = dpop.AsyncDPoPVerifier(replay=AsyncDictCache(fail=True), clock=Clock())
    with pytest.raises(StoreUnavailable):  # fail closed: never "accepted" when it cannot tell
        await down.verify(
            dpop.create_proof(KEY, method="GET", url=URL, now=NOW), method="GET", url=URL
        )


def test_sync_verifier_refuses_an_async_cache() -> None:
    for replay in (AsyncDictCache(), object(), None):
        with pytest.raises(ConfigurationError):
            dpop.DPoPVerifier(replay=replay)  # type: ignore[arg-type]


# --- server nonces -----------------------------------------------------------------------------


def test_nonces() -> None:
    verifier = verifier_at()
    with_nonce = forge_proof(KEY, claims={"nonce": "n-2"})
    assert verifier.verify(with_nonce, method="GET", url=URL, nonce="n-2").jkt == KEY.thumbprint()
    cases: list[tuple[str, Any]] = [
        (forge_proof(KEY, drop=("nonce",)), "n-2"),  # no nonce at all
        (forge_proof(KEY, claims={"nonce": "n-1"}), "n-2"),  # a stale one
        (forge_proof(KEY, claims={"nonce": ["n-2"]}), "n-2"),
        (forge_proof(KEY, claims={"nonce": "n-2 "}), "n-2"),
        (forge_proof(KEY, claims={"nonce": "n-2"}), ()),
    ]
    for proof, expected in cases:
        with pytest.raises(DPoPNonceRequired) as caught:
            verifier.verify(proof, method="GET", url=URL, nonce=expected)
        assert isinstance(caught.value, InvalidDPoPProof)
    with pytest.raises(DPoPNonceRequired, match="requires a nonce"):
        verifier.verify(forge_proof(KEY), method="GET", url=URL, nonce="n-2")
    # Current and previous nonce both accepted while they rotate; none asked: nonce ignored.
    verifier.verify(
        forge_proof(KEY, claims={"nonce": "n-1"}), method="GET", url=URL, nonce=("n-1", "n-2")
    )
    verifier.verify(forge_proof(KEY, claims={"nonce": "x"}), method="GET", url=URL)


# --- binding a token to the proof's key ---------------------------------------------------------


def test_check_binding() -> None:
    proof = verifier_at().verify(forge_proof(KEY), method="GET", url=URL)
    bound = {"sub": "u", "cnf": {"jkt": KEY.thumbprint()}}
    dpop.check_binding(bound, proof)
    dpop.check_binding({"sub": "u"}, None)  # a plain bearer token and no proof
    thief = verifier_at().verify(forge_proof(Key.generate("ES256")), method="GET", url=URL)
    for claims, presented in (
        (bound, thief),  # a stolen bound token with the thief's own proof
        (bound, None),  # a bound token sent as a bearer token (RFC 9449 7.2 downgrade)
        ({"sub": "u"}, proof),  # an unbound token with a proof
        ({"cnf": {"x5t#S256": "abc"}}, proof),  # bound by a method gatepass cannot confirm
        ({"cnf": {"x5t#S256": "abc"}}, None),
    ):
        with pytest.raises(DPoPBindingMismatch):
            dpop.check_binding(claims, presented)
    for cnf in ("jkt", ["jkt"], {"jkt": 5}, {"jkt": ""}):
        with pytest.raises(ClaimError):
            dpop.check_binding({"cnf": cnf}, proof)
    assert dpop.token_jkt(bound) == KEY.thumbprint() and dpop.token_jkt({}) is None


# --- configuration and the client side ---------------------------------------------------------


def test_verifier_configuration_errors() -> None:
    bad_options: list[dict[str, Any]] = [
        {"algorithms": ()},
        {"algorithms": ("ES256", "HS256")},
        {"algorithms": "none"},
        {"algorithms": ("RS1",)},
        {"max_age": 0},
        {"max_age": float("inf")},
        {"max_age": "60"},
        {"leeway": -1},
        {"max_size": 0},
        {"max_jti_length": 1.5},
        {"clock": "now"},
    ]
    for options in bad_options:
        with pytest.raises(ConfigurationError):
            dpop.DPoPVerifier(replay=MemoryReplayCache(), **options)
    verifier = verifier_at(algorithms="ES256")
    assert verifier.algorithms == ("ES256",)
    assert "HS256" not in dpop.DPoPVerifier(replay=MemoryReplayCache()).algorithms
    proof = forge_proof(KEY)
    for bad in ({"nonce": b"n"}, {"nonce": ["n", 5]}, {"now": "1760000000"}):
        with pytest.raises(ConfigurationError):
            verifier.verify(proof, method="GET", url=URL, **bad)  # type: ignore[arg-type]
    broken_clock = dpop.DPoPVerifier(replay=MemoryReplayCache(), clock=lambda: "now")  # type: ignore[arg-type,return-value]
    with pytest.raises(ConfigurationError):
        broken_clock.verify(proof, method="GET", url=URL)
    for claims, presented in ((None, None), ([], None), ({}, "jkt"), ({}, ("a", "b", 1, "c"))):
        with pytest.raises(ConfigurationError):
            dpop.check_binding(claims, presented)  # type: ignore[arg-type]
    for method, url in (
        ("", URL),
        (b"GET", URL),
        ("GET", "/orders"),
        ("GET", b"https://a/"),
        ("GET", "api.example/x"),
    ):
        with pytest.raises(ConfigurationError):
            verifier.verify(proof, method=method, url=url)  # type: ignore[arg-type]


def test_create_proof_refusals() -> None:
    for key in (Key.from_secret(b"k" * 32, alg="HS256"), KEY.public()):
        with pytest.raises(KeyUsageError):
            dpop.create_proof(key, method="GET", url=URL)
    bad: list[dict[str, Any]] = [
        {"method": ""},
        {"method": "GE T"},
        {"url": "/orders"},
        {"url": "https://api.example/a/../b"},
        {"url": "https://user@api.example/"},
        {"jti": ""},
        {"nonce": ""},
        {"access_token": "tökén"},
    ]
    for change in bad:
        with pytest.raises((ConfigurationError, MalformedToken)):
            dpop.create_proof(KEY, **{"method": "GET", "url": URL, **change})
    # What the client sends is the normal form the server compares.
    proof = dpop.create_proof(KEY, method="GET", url="HTTPS://API.example:443/a?q=1#f")
    assert jwt.inspect(proof).claims["htu"] == "https://api.example/a"
