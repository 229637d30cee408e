# GENERATED from gatepass/stores/postgres/_async/sessions.py by scripts/unasync.py: do not edit.
# Change the asyncio source, then run `python scripts/unasync.py`.
"""Sessions in PostgreSQL: one prepared primary-key SELECT per read (one round trip), single
compare-and-set statements for writes."""

from __future__ import annotations

from gatepass.stores.jsontext import dump_json
from gatepass.stores.postgres._sync.client import PostgresClient
from gatepass.stores.postgres.sql import PURGE_BATCH
from gatepass.stores.records import SessionRecord
from gatepass.stores.sqlrows import (
    move_values,
    session_from_row,
    session_values,
    touch_values,
)


class PostgresSessions(PostgresClient):
    """:class:`~gatepass.stores.protocols.SessionStore` on PostgreSQL."""

    def session_create(
        self, token_hash: bytes, record: SessionRecord, tag: str, *, keep_until: float
    ) -> int:
        args = (*session_values(token_hash, record, dump_json), record.user_id)
        row = self.fetch_one(self.sql.session_insert, args)
        count = None if row is None else row[0]
        assert isinstance(count, int)  # the insert either returns its one row or raises
        return count

    def session_get(self, token_hash: bytes, tag: str) -> SessionRecord | None:
        # The hot path takes its connection with the pool's getconn/putconn rather than its
        # connection() context manager, which adds 7 µs of Python per call (14 against 6.5 µs
        # measured beside a 80 µs round trip: a tenth of the floor of bench/bench_sessions.py).
        # putconn hands a connection that failed back for the pool to check and replace.
        if not self._opened:
            self.open()
        pool = self.pool
        with self.errors:
            conn = pool.getconn()
            try:
                row = (conn.execute(self.sql.session_get, (token_hash,))).fetchone()
            finally:
                pool.putconn(conn)
        return None if row is None else session_from_row(row)

    def session_touch(
        self,
        token_hash: bytes,
        tag: str,
        current: SessionRecord,
        renewed: SessionRecord,
        *,
        keep_until: float,
    ) -> bool:
        args = touch_values(token_hash, current, renewed)
        return self.execute(self.sql.session_touch, args) == 1

    def session_move(
        self,
        old_hash: bytes,
        new_hash: bytes,
        tag: str,
        current: SessionRecord,
        moved: SessionRecord,
        *,
        keep_until: float,
    ) -> bool:
        args = move_values(old_hash, new_hash, current, moved)
        return self.execute(self.sql.session_move, args) == 1

    def session_set_data(
        self, token_hash: bytes, tag: str, current: SessionRecord, updated: SessionRecord
    ) -> bool:
        args = (dump_json(updated.data), token_hash, dump_json(current.data))
        return self.execute(self.sql.session_set_data, args) == 1

    def session_revoke(self, token_hash: bytes, tag: str) -> str | None:
        row = self.fetch_one(self.sql.session_revoke, (token_hash,))
        return None if row is None else str(row[0])

    def session_revoke_id(self, user_id: str, public_id: str, tag: str) -> bool:
        return bool(self.execute(self.sql.session_revoke_id, (user_id, public_id)))

    def session_revoke_user(self, user_id: str, tag: str, keep_hash: bytes | None) -> list[str]:
        rows = self.fetch(self.sql.session_revoke_user, (user_id, keep_hash))
        return [str(row[0]) for row in rows]

    def session_list(self, user_id: str, tag: str) -> list[SessionRecord]:
        rows = self.fetch(self.sql.session_list, (user_id,))
        return [session_from_row(row) for row in rows]

    def purge_sessions(self, before: float) -> int:
        removed = 0
        while True:
            count = self.execute(self.sql.session_purge, (before,))
            removed += count
            if count < PURGE_BATCH:
                return removed
