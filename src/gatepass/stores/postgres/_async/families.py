"""Refresh-token families in PostgreSQL: one SELECT per read (with the server's clock), a
compare-and-set UPDATE per write.

The write is fenced on the server's clock: it applies only before the deadline the read set
(the read's clock plus the operation timeout), so a statement that reaches a server after a
stall the caller already gave up on changes nothing and the caller sees ``StoreUnavailable``.
"""

from __future__ import annotations

from gatepass.errors import StoreUnavailable
from gatepass.stores.postgres._async.client import AsyncPostgresClient
from gatepass.stores.records import Family, FamilyRead
from gatepass.stores.sqlrows import family_from_row, family_read_from_row, family_values


class AsyncPostgresFamilies(AsyncPostgresClient):
    """:class:`~gatepass.stores.protocols.AsyncFamilyStore` on PostgreSQL (the store's clock:
    the server's ``clock_timestamp()``)."""

    async def family_create(self, family: Family, token_hash: bytes, tag: str) -> None:
        if not self._opened:
            await self.open()
        with self.errors:
            async with self.pool.connection() as conn, conn.transaction():
                await conn.execute(self.sql.family_insert, family_values(family))
                await conn.execute(
                    self.sql.token_insert,
                    (token_hash, family.id, family.generation, family.expires_at),
                )

    async def family_read(self, token_hash: bytes, tag: str, family_id: str) -> FamilyRead:
        row = await self.fetch_one(self.sql.family_read, (token_hash,))
        return family_read_from_row(row, 0.0 if row is None else float(row[-1]))  # type: ignore[arg-type]

    async def family_advance(self, read: FamilyRead, new_hash: bytes, tag: str, now: float) -> bool:
        family = read.family
        if family is None:
            return False
        generation, session_hash = read.version
        deadline = read.store_now + self.operation_timeout
        sql = self.sql.family_advance if session_hash is None else self.sql.family_advance_guarded
        guard: tuple[bytes, ...] = () if session_hash is None else (session_hash,)
        args = (now, family.id, generation, deadline, *guard, new_hash, deadline)
        row = await self.fetch_one(sql, args)
        if row is None or not row[0]:
            if row is not None and row[1]:
                raise StoreUnavailable(
                    "postgres: the rotation reached the server after the caller stopped "
                    "waiting; nothing was changed"
                )
            return False
        return True

    async def family_revoke(self, family: Family, tag: str) -> bool:
        return await self.execute(self.sql.family_revoke, (family.id,)) == 1

    async def family_revoke_token(
        self, token_hash: bytes, tag: str, family_id: str
    ) -> Family | None:
        row = await self.fetch_one(self.sql.family_revoke_token, (token_hash,))
        return None if row is None else family_from_row(row)

    async def family_of(self, token_hash: bytes, tag: str, family_id: str) -> Family | None:
        row = await self.fetch_one(self.sql.family_of, (token_hash,))
        return None if row is None else family_from_row(row)

    async def purge_families(self, before: float) -> int:
        removed = 0
        for statement in self.sql.family_purge:
            removed += await self.execute(statement, (before,))
        return removed
