"""The PostgreSQL store, blocking and asyncio (the blocking modules are generated: ``_sync``)."""

from __future__ import annotations

from gatepass.stores.postgres._async.store import AsyncPostgresStore
from gatepass.stores.postgres._sync.store import PostgresStore

__all__ = ["AsyncPostgresStore", "PostgresStore"]
