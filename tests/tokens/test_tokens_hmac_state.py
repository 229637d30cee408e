"""HMAC keys absorb the secret once and copy that state per token (tokens/primitives.py).

The shared state must never carry one message into the next: every signature must equal a fresh
``hmac.digest`` of its own input, whatever came before it and whichever thread computes it.
"""

from __future__ import annotations

import hmac
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest

from gatepass import Key

HASHES = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}


@pytest.mark.parametrize("alg", sorted(HASHES))
@pytest.mark.parametrize("secret_size", [64, 65, 129, 200])
def test_each_signature_is_that_of_its_own_message(alg: str, secret_size: int) -> None:
    # 65, 129 and 200 bytes exceed the hash's block size: RFC 2104 hashes such keys first.
    secret = secrets.token_bytes(secret_size)
    key = Key.from_secret(secret, alg)
    messages = [secrets.token_bytes(n) for n in (0, 1, 63, 64, 65, 300, 5000)] * 2
    for message in messages:
        expected = hmac.digest(secret, message, HASHES[alg])
        assert key.sign(message) == expected
        assert key.verify(message, expected)
        assert not key.verify(message, expected[:-1] + bytes([expected[-1] ^ 1]))


def test_threads_sharing_one_key_get_their_own_signatures() -> None:
    secret = secrets.token_bytes(32)
    key = Key.from_secret(secret, "HS256")
    messages = [secrets.token_bytes(200) for _ in range(2000)]

    def check(message: bytes) -> bool:
        signature = key.sign(message)
        return signature == hmac.digest(secret, message, "sha256") and key.verify(
            message, signature
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(check, messages))
