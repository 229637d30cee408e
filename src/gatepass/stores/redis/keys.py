"""The Redis layout, without I/O: key names and value encodings (the compare-and-set scripts
that write them are in :mod:`gatepass.stores.redis.scripts`).

Key layout (``prefix`` defaults to ``gatepass:``; ``T`` is the 4-character routing tag of a user)::

    <prefix>{T}:s:<sha256 hex>   STRING  a session: JSON array of the SessionRecord fields
    <prefix>{T}:u:<user id>      HASH    public id -> sha256 hex of that user's sessions
    <prefix>{T}:rf:<family id>   HASH    a refresh family (fields below)
    <prefix>{T}:rt:<sha256 hex>  STRING  "<family id>|<generation>" of every token it issued
    <prefix>{rv}:jti:<jti>, ...:sid:<sid>, ...:user:<user>   revocation entries (TTL)
    <prefix>{rv}:index           ZSET    "kind|value|key" scored by expiry (snapshots)
    <prefix>{rv}:since           STRING  the loss marker, no TTL: µs since which the
                                         revocations are complete (see revocations.py)
    <prefix>{H}:dp:<proof id>    STRING  a DPoP proof already accepted (TTL: until it is stale);
                                         ``H`` is the id's first four hex digits
    channel <prefix>revocations          pub/sub change messages

All keys of a user share the hash tag ``{T}``, hence one Cluster slot; all revocation keys share
``{rv}``. Every script names every key it touches in ``KEYS`` and builds no key name itself:
Redis Cluster routes and checks only declared keys, so during a slot migration an undeclared
key that already moved would silently read as missing, while a declared one gets ``TRYAGAIN`` /
``ASK`` (redis-py follows ``ASK`` and retries ``TRYAGAIN``, then raises: ``StoreUnavailable``).

"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from gatepass.errors import StoreError
from gatepass.stores.jsontext import dump_json, load_json
from gatepass.stores.records import Family, SessionRecord, freeze

_TAG_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
REVOCATION_TAG = "rv"
FAMILY_FIELDS = ("u", "s", "c", "l", "g", "r", "x", "e", "p", "a", "k")


def is_tag(tag: str) -> bool:
    """Whether ``tag`` may become part of a key: four base64url characters, nothing else."""
    return len(tag) == 4 and tag.isascii() and (tag.isalnum() or _TAG_CHARS.issuperset(tag))


def glob_escape(text: str) -> str:
    """``text`` matched literally by a SCAN ``MATCH`` pattern."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


class Keys:
    """Key names under one prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.index_pattern = f"{glob_escape(prefix)}{{*}}:u:*"
        self.channel = f"{prefix}revocations"
        self.revocation_index = self.key(REVOCATION_TAG, "index")
        self.revocation_marker = self.key(REVOCATION_TAG, "since")

    def key(self, tag: str, *parts: str) -> str:
        return f"{self.prefix}{{{tag}}}:{':'.join(parts)}"

    def session(self, tag: str, token_hash: bytes) -> str:
        return f"{self.prefix}{{{tag}}}:s:{token_hash.hex()}"

    def session_prefix(self, tag: str) -> bytes:
        return f"{self.prefix}{{{tag}}}:s:".encode()

    def user_index(self, tag: str, user_id: str) -> str:
        return f"{self.prefix}{{{tag}}}:u:{user_id}"

    def family(self, tag: str, family_id: str) -> str:
        return f"{self.prefix}{{{tag}}}:rf:{family_id}"

    def token(self, tag: str, token_hash: bytes) -> str:
        return f"{self.prefix}{{{tag}}}:rt:{token_hash.hex()}"

    def proof(self, proof_id: str) -> str:
        """A DPoP proof id's key, tagged by its first four hex digits: proofs spread over the
        Cluster's slots (each is one single-key command)."""
        return f"{self.prefix}{{{proof_id[:4]}}}:dp:{proof_id}"

    def revocation(self, kind: str, key: str) -> str:
        return self.key(REVOCATION_TAG, kind, key)

    def index_tag(self, key: bytes) -> str | None:
        """The tag of a user index found by SCAN (``<prefix>{T}:u:<user>``); None for a key that
        merely matches the pattern (its session keys could not be named)."""
        head = len(self.prefix.encode())
        if key[head : head + 1] != b"{" or key[head + 5 : head + 9] != b"}:u:":
            return None
        try:
            tag = key[head + 1 : head + 5].decode("ascii")
        except UnicodeDecodeError:
            return None
        return tag if is_tag(tag) else None


# --- values -------------------------------------------------------------------------------------

_NUMBER = (float, int)  # JSON numbers as json.loads gives them (never bool: ``type`` is exact)
_MALFORMED = (
    "redis: the value stored at a session key is not a gatepass session record ({}); "
    "it is damaged or was written by something else"
)


def encode(record: SessionRecord) -> str:
    """The stored value: the record's fields as a JSON array (floats round-trip exactly)."""
    return dump_json(list(record))


def decode(value: bytes) -> SessionRecord:
    """The record stored at a session key; :class:`StoreError` for anything :func:`encode` does
    not write (not UTF-8, not JSON, not exactly the 10 fields in their JSON types)."""
    try:
        fields = load_json(value.decode())
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise StoreError(_MALFORMED.format("not UTF-8 JSON")) from None
    if not (
        type(fields) is list
        and len(fields) == 10
        and type(fields[0]) is str
        and type(fields[1]) is str
        and type(fields[2]) in _NUMBER
        and type(fields[3]) in _NUMBER
        and type(fields[4]) in _NUMBER
        and type(fields[5]) in _NUMBER
        and type(fields[6]) in _NUMBER
        and type(fields[7]) is bool
        and type(fields[8]) is dict
        and type(fields[9]) is dict
    ):
        raise StoreError(_MALFORMED.format("wrong shape"))
    fields[8] = freeze(fields[8])  # records are immutable snapshots: metadata and data frozen
    fields[9] = freeze(fields[9])
    return SessionRecord._make(fields)


def ttl_ms(until: float, now: float) -> int:
    """Milliseconds from ``now`` until ``until``: a native TTL (at least 1)."""
    return max(1, int((until - now) * 1000) + 1)


def text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def family_from_fields(family_id: str, fields: Sequence[Any]) -> Family | None:
    """A family from its hash fields in :data:`FAMILY_FIELDS` order; None if it is gone."""
    if fields[0] is None:
        return None
    try:
        # Scopes, login time and key ("p", "a", "k") are absent (nil) from a family an earlier
        # release wrote: read as none, as that release issued them.
        t = ["" if x is None else text(x) for x in fields]
        scopes, auth_time, jkt = [*t[8:11], "", "", ""][:3]
        return Family(
            family_id, t[0], t[1] or None, float(t[2]), float(t[3]), int(t[4]), float(t[5]),
            t[6] == "1", float(t[7]), tuple(scopes.split()),
            float(auth_time) if auth_time else None, jkt or None,
        )  # fmt: skip
    except (TypeError, ValueError):
        raise StoreError("redis: a refresh family is damaged or not gatepass's") from None


#: Index entries per HSCAN call and per batch script: each script touches at most this many
#: sessions (about a millisecond of server time), so no user's sessions hold the server.
BATCH = 256


def batches(entries: Sequence[tuple[bytes, bytes]]) -> Iterable[Sequence[tuple[bytes, bytes]]]:
    """``entries`` in slices of at most :data:`BATCH` (HSCAN's ``COUNT`` is only a hint)."""
    for start in range(0, len(entries), BATCH):
        yield entries[start : start + BATCH]


def snapshot(
    index: str | bytes,
    session_prefix: bytes,
    entries: Iterable[tuple[bytes, bytes]],
    head: tuple[bytes, bytes] = (b"", b""),
) -> tuple[list[str | bytes], list[bytes]]:
    """KEYS and ARGV of the batch scripts: the index, then each session key; ARGV ``head``,
    then each entry's public id and hash hex."""
    keys: list[str | bytes] = [index]
    args = list(head)
    for public_id, hexh in entries:
        keys.append(session_prefix + hexh)
        args.append(public_id)
        args.append(hexh)
    return keys, args
