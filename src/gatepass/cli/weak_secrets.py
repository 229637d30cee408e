"""Finding an HMAC token's secret in lists of well-known, default and leaked secrets.

The check uses :mod:`hmac` arithmetic directly, not ``Key.from_secret``: gatepass refuses to
*sign* with a short secret, but an audit must still find one that someone else used.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from gatepass.tokens.algorithms import ALGORITHM_SPECS

HMAC_DIGESTS = {
    name: spec.hash_name
    for name, spec in ALGORITHM_SPECS.items()
    if spec.family == "HMAC" and spec.hash_name is not None
}


def builtin_wordlist() -> list[bytes]:
    """The small list of well-known example and leaked secrets shipped with gatepass."""
    text = resources.files("gatepass.cli").joinpath("data/weak-secrets.txt").read_bytes()
    return _lines(text)


def load_wordlist(path: str) -> list[bytes]:
    return _lines(Path(path).read_bytes())


def _lines(data: bytes) -> list[bytes]:
    words = []
    for line in data.split(b"\n"):
        word = line[:-1] if line.endswith(b"\r") else line
        if word and not word.startswith(b"#"):
            words.append(word)
    return words


_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


def crack_hmac(
    alg: str, signing_input: bytes, signature: bytes, candidates: Iterable[bytes]
) -> tuple[bytes | None, int]:
    """The candidate that produces ``signature``, and how many candidates were tried.

    RFC 2104 HMAC written out with ``bytes.translate`` for the pads: about 2.5x faster per
    candidate than ``hmac.digest`` with a digest name, which matters for 100,000-entry lists.
    A hit is confirmed with the standard library's :mod:`hmac` before it is reported.
    """
    name = HMAC_DIGESTS[alg]
    hash_fn = getattr(hashlib, name)
    block = hash_fn().block_size
    tried = 0
    seen: set[bytes] = set()
    for candidate in candidates:
        if candidate in seen:
            continue
        seen.add(candidate)
        tried += 1
        key = candidate if len(candidate) <= block else hash_fn(candidate).digest()
        key = key.ljust(block, b"\0")
        inner = hash_fn(key.translate(_IPAD) + signing_input).digest()
        if hash_fn(key.translate(_OPAD) + inner).digest() == signature and hmac_matches(
            alg, signing_input, signature, candidate
        ):
            return candidate, tried
    return None, tried


def hmac_matches(alg: str, signing_input: bytes, signature: bytes, secret: bytes) -> bool:
    return hmac.compare_digest(hmac.digest(secret, signing_input, HMAC_DIGESTS[alg]), signature)
