"""Sessions in SQLite: one primary-key SELECT per read, compare-and-set UPDATEs for writes."""

from __future__ import annotations

import sqlite3

from gatepass.errors import StoreUnavailable
from gatepass.stores.jsontext import dump_json
from gatepass.stores.records import SessionRecord
from gatepass.stores.sqlite.connection import SQLiteConnections
from gatepass.stores.sqlrows import (
    SESSION_COLUMNS,
    move_values,
    session_from_row,
    session_values,
    touch_values,
)


def session_ddl(db: SQLiteConnections) -> list[str]:
    t = db.table("sessions")
    return [
        f"""CREATE TABLE IF NOT EXISTS {t} (
            token_hash BLOB PRIMARY KEY,
            id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            created_at REAL NOT NULL,
            authenticated_at REAL NOT NULL,
            last_seen_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            absolute_expires_at REAL NOT NULL,
            remember INTEGER NOT NULL,
            metadata TEXT NOT NULL,
            data TEXT NOT NULL
        ) WITHOUT ROWID""",
        f"CREATE INDEX IF NOT EXISTS {db.index('sessions_user')} ON {t} (user_id, id)",
        f"CREATE INDEX IF NOT EXISTS {db.index('sessions_expiry')} ON {t} (expires_at)",
    ]


class SQLiteSessions(SQLiteConnections):
    """:class:`~gatepass.stores.protocols.SessionStore` on SQLite."""

    def __init__(
        self,
        path: str,
        *,
        prefix: str = "gatepass_",
        busy_timeout: float = 5.0,
        synchronous: str = "NORMAL",
    ) -> None:
        super().__init__(path, prefix=prefix, busy_timeout=busy_timeout, synchronous=synchronous)
        t = self.table("sessions")
        self._sql_get = f"SELECT {SESSION_COLUMNS} FROM {t} WHERE token_hash = ?"
        self._sql_insert = (
            f"INSERT INTO {t} (token_hash, {SESSION_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
        )
        # Compare-and-set: the row is still the one the decision was made on. A touch or a
        # rotation always sets last_seen_at, so an unchanged last_seen_at means an unchanged row.
        self._sql_touch = (
            f"UPDATE {t} SET last_seen_at = ?, expires_at = ? "
            "WHERE token_hash = ? AND last_seen_at = ?"
        )
        self._sql_move = (
            f"UPDATE {t} SET token_hash = ?, last_seen_at = ?, expires_at = ?, "
            "authenticated_at = ? WHERE token_hash = ? AND last_seen_at = ?"
        )
        self._sql_set_data = f"UPDATE {t} SET data = ? WHERE token_hash = ? AND data = ?"
        self._sql_revoke = f"DELETE FROM {t} WHERE token_hash = ? RETURNING id"
        self._sql_revoke_id = f"DELETE FROM {t} WHERE user_id = ? AND id = ?"
        self._sql_revoke_user = (
            f"DELETE FROM {t} WHERE user_id = ? AND token_hash IS NOT ? RETURNING id"
        )
        self._sql_list = f"SELECT {SESSION_COLUMNS} FROM {t} WHERE user_id = ? ORDER BY created_at"
        self._sql_count = f"SELECT count(*) FROM {t} WHERE user_id = ?"

    def session_create(
        self, token_hash: bytes, record: SessionRecord, tag: str, *, keep_until: float
    ) -> int:
        with self.errors, self.connection() as conn:
            conn.execute(self._sql_insert, session_values(token_hash, record, dump_json))
            (count,) = conn.execute(self._sql_count, (record.user_id,)).fetchone()
        return int(count)

    def session_get(self, token_hash: bytes, tag: str) -> SessionRecord | None:
        if self.private:
            with self.errors, self.connection() as conn:
                row = conn.execute(self._sql_get, (token_hash,)).fetchone()
        else:
            # The hot path: this thread's own cursor, errors translated only when one happens
            # (a ``with`` block costs two calls on every pass). fetchone() of a primary-key
            # lookup steps the statement to its end, so no read snapshot is held between calls.
            cursor = self._thread.cursor or self.thread_cursor()
            try:
                row = cursor.execute(self._sql_get, (token_hash,)).fetchone()
            except sqlite3.Error as exc:
                if self._closed:
                    raise StoreUnavailable("sqlite: the store is closed") from exc
                self.errors.reraise(exc)
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
        return self.execute(self._sql_touch, args).rowcount == 1

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
        return self.execute(self._sql_move, args).rowcount == 1

    def session_set_data(
        self, token_hash: bytes, tag: str, current: SessionRecord, updated: SessionRecord
    ) -> bool:
        args = (dump_json(updated.data), token_hash, dump_json(current.data))
        return self.execute(self._sql_set_data, args).rowcount == 1

    def session_revoke(self, token_hash: bytes, tag: str) -> str | None:
        with self.errors, self.connection() as conn:
            rows = conn.execute(self._sql_revoke, (token_hash,)).fetchall()  # ends the statement
        return str(rows[0][0]) if rows else None

    def session_revoke_id(self, user_id: str, public_id: str, tag: str) -> bool:
        return bool(self.execute(self._sql_revoke_id, (user_id, public_id)).rowcount)

    def session_revoke_user(self, user_id: str, tag: str, keep_hash: bytes | None) -> list[str]:
        with self.errors, self.connection() as conn:
            rows = conn.execute(self._sql_revoke_user, (user_id, keep_hash)).fetchall()
        return [row[0] for row in rows]

    def session_list(self, user_id: str, tag: str) -> list[SessionRecord]:
        with self.errors, self.connection() as conn:
            rows = conn.execute(self._sql_list, (user_id,)).fetchall()
        return [session_from_row(row) for row in rows]
