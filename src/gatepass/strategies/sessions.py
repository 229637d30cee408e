"""Server-side sessions: an opaque token in a cookie, the state in a store, instant revocation.

:class:`AsyncSessions` (asyncio) is written once; :class:`Sessions` (blocking) is generated from
it (``scripts/unasync.py``). Both decide with :mod:`gatepass.strategies._session_policy` and
write through the store's :class:`~gatepass.stores.protocols.SessionStore`. See
``docs/sessions.md`` for the design and threat model.

    sessions = Sessions(open_store("sqlite:///app.db"), idle_timeout=1800, absolute_timeout=43200)
    token, record = sessions.create("user-42", metadata={"ua": "Firefox on Linux"})
    record = sessions.get(token)            # None once expired or revoked
    token = sessions.rotate(token)          # after login / privilege change
    sessions.revoke_all("user-42", except_token=token)
"""

from __future__ import annotations

from gatepass.stores.records import SessionRecord
from gatepass.strategies._async.sessions import AsyncSessions
from gatepass.strategies._session_config import DAY, HOUR, MINUTE
from gatepass.strategies._sync.sessions import Sessions

__all__ = ["DAY", "HOUR", "MINUTE", "AsyncSessions", "SessionRecord", "Sessions"]
