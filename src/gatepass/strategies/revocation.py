"""The revocation modes of access tokens (``stateless``, ``denylist``, ``replicated``), blocking
and asyncio: see :mod:`gatepass.strategies._async.revocation`, whose blocking twin is generated.

Failure policy of ``replicated`` (chosen: **fail closed, then resynchronise**): a missed change
message means a revoked token could be accepted for as long as the process lives, so the cache
is trusted only while the change stream is known to be intact. Before the first full load, and
from the moment the listener sees its feed fail (an error, or the driver reconnecting underneath
it) until a new feed has completed a full load, ``verify`` raises
:class:`~gatepass.errors.StoreUnavailable`; so it does when the feed shows no sign of life for
``max_silence`` seconds (3 s by default: a silently dropped TCP connection, a dead listener). The
revoking process applies its own revocation to its cache immediately.
"""

from __future__ import annotations

from gatepass.strategies._access_core import DEFAULT_MAX_SILENCE, DEFAULT_POLL_INTERVAL
from gatepass.strategies._async.revocation import (
    AsyncDenylistRevocations,
    AsyncReplicatedRevocations,
    AsyncRevocations,
    AsyncStatelessRevocations,
)
from gatepass.strategies._sync.revocation import (
    DenylistRevocations,
    ReplicatedRevocations,
    Revocations,
    StatelessRevocations,
)

__all__ = [
    "DEFAULT_MAX_SILENCE",
    "DEFAULT_POLL_INTERVAL",
    "AsyncDenylistRevocations",
    "AsyncReplicatedRevocations",
    "AsyncRevocations",
    "AsyncStatelessRevocations",
    "DenylistRevocations",
    "ReplicatedRevocations",
    "Revocations",
    "StatelessRevocations",
]
