"""NumericDate claims: a number that overflows to infinity is not a valid time."""

from __future__ import annotations

import pytest

from gatepass import Key, jws, jwt
from gatepass.errors import MalformedToken

NOW = 1_800_000_000.0


@pytest.mark.parametrize("payload", [b'{"sub":"u","exp":1e400}', b'{"sub":"u","nbf":-1e999}'])
def test_overflowing_numbers_are_malformed(payload: bytes) -> None:
    key = Key.generate("ES256")
    token = jws.sign(payload, key)  # signed by the key holder: an issuer bug, not forgery
    with pytest.raises(MalformedToken):
        jwt.verify(token, key, require=(), now=4e12)


def test_ordinary_float_claims_still_parse() -> None:
    key = Key.generate("ES256")
    token = jws.sign(b'{"sub":"u","exp":1800000060.5}', key)
    assert jwt.verify(token, key, now=NOW)["exp"] == 1800000060.5
