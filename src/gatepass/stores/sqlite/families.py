"""Refresh-token families in SQLite: one consistent SELECT per read, compare-and-set writes."""

from __future__ import annotations

import sqlite3
import time

from gatepass.stores.records import Family, FamilyRead
from gatepass.stores.sqlite.connection import SQLiteConnections
from gatepass.stores.sqlrows import (
    FAMILY_ADDED,
    FAMILY_COLUMNS,
    family_from_row,
    family_read_from_row,
    family_read_sql,
    family_values,
)


def family_ddl(db: SQLiteConnections) -> list[str]:
    fam, tok = db.table("refresh_families"), db.table("refresh_tokens")
    return [
        f"""CREATE TABLE IF NOT EXISTS {fam} (
            id TEXT PRIMARY KEY, user_id TEXT NOT NULL, sid TEXT,
            created_at REAL NOT NULL, last_used_at REAL NOT NULL, generation INTEGER NOT NULL,
            rotated_at REAL NOT NULL, revoked INTEGER NOT NULL, expires_at REAL NOT NULL,
            scopes TEXT NOT NULL DEFAULT '', auth_time REAL, jkt TEXT
        ) WITHOUT ROWID""",
        f"""CREATE TABLE IF NOT EXISTS {tok} (
            token_hash BLOB PRIMARY KEY, family_id TEXT NOT NULL, generation INTEGER NOT NULL,
            expires_at REAL NOT NULL
        ) WITHOUT ROWID""",
        f"CREATE INDEX IF NOT EXISTS {db.index('refresh_families_exp')} ON {fam} (expires_at)",
        f"CREATE INDEX IF NOT EXISTS {db.index('refresh_tokens_exp')} ON {tok} (expires_at)",
    ]


def family_upgrade(db: SQLiteConnections, conn: sqlite3.Connection) -> None:
    """Add the columns a table made by an earlier release lacks (SQLite has no ``ADD COLUMN IF
    NOT EXISTS``): run by ``setup()`` inside its transaction."""
    fam = db.table("refresh_families")
    present = {row[1] for row in conn.execute(f"PRAGMA table_info({fam})")}
    for name, kind in FAMILY_ADDED:
        if name not in present:
            conn.execute(f"ALTER TABLE {fam} ADD COLUMN {name} {kind}")


class SQLiteFamilies(SQLiteConnections):
    """:class:`~gatepass.stores.protocols.FamilyStore` on SQLite (the store's clock: this
    machine's, shared by every process using the file)."""

    def family_create(self, family: Family, token_hash: bytes, tag: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                f"INSERT INTO {self.table('refresh_families')} ({FAMILY_COLUMNS}) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                family_values(family),
            )
            conn.execute(
                f"INSERT INTO {self.table('refresh_tokens')} VALUES (?,?,?,?)",
                (token_hash, family.id, family.generation, family.expires_at),
            )

    def family_read(self, token_hash: bytes, tag: str, family_id: str) -> FamilyRead:
        sql = family_read_sql(
            self.table("refresh_families"),
            self.table("refresh_tokens"),
            self.table("sessions"),
            "?",
        )
        with self.errors, self.connection() as conn:
            row = conn.execute(sql, (token_hash,)).fetchone()
        return family_read_from_row(row, time.time())

    def family_advance(self, read: FamilyRead, new_hash: bytes, tag: str, now: float) -> bool:
        family = read.family
        if family is None:
            return False
        generation, session_hash = read.version
        fam, tok = self.table("refresh_families"), self.table("refresh_tokens")
        guard = ""
        guard_args: tuple[bytes, ...] = ()
        if session_hash is not None:  # the session row read is still there, under that hash
            guard = f" AND EXISTS (SELECT 1 FROM {self.table('sessions')} WHERE token_hash = ?)"
            guard_args = (session_hash,)
        with self.transaction() as conn:
            # The store's clock, read inside the write lock: the moment the rotation applies.
            args = (generation + 1, now, time.time(), family.id, generation, *guard_args)
            updated = conn.execute(
                f"UPDATE {fam} SET generation = ?, last_used_at = ?, rotated_at = ? "
                f"WHERE id = ? AND generation = ? AND revoked = 0{guard}",
                args,
            ).rowcount
            if updated != 1:
                return False
            conn.execute(
                f"INSERT OR IGNORE INTO {tok} VALUES (?,?,?,?)",
                (new_hash, family.id, generation + 1, family.expires_at),
            )
        return True

    def family_revoke(self, family: Family, tag: str) -> bool:
        sql = (
            f"UPDATE {self.table('refresh_families')} SET revoked = 1 WHERE id = ? AND revoked = 0"
        )
        return self.execute(sql, (family.id,)).rowcount == 1

    def family_revoke_token(self, token_hash: bytes, tag: str, family_id: str) -> Family | None:
        fam, tok = self.table("refresh_families"), self.table("refresh_tokens")
        with self.errors, self.connection() as conn:
            rows = conn.execute(
                f"UPDATE {fam} SET revoked = 1 WHERE id = "
                f"(SELECT family_id FROM {tok} WHERE token_hash = ?) RETURNING {FAMILY_COLUMNS}",
                (token_hash,),
            ).fetchall()
        return family_from_row(rows[0]) if rows else None

    def family_of(self, token_hash: bytes, tag: str, family_id: str) -> Family | None:
        fam, tok = self.table("refresh_families"), self.table("refresh_tokens")
        columns = ", ".join(f"f.{c.strip()}" for c in FAMILY_COLUMNS.split(","))
        with self.errors, self.connection() as conn:
            row = conn.execute(
                f"SELECT {columns} FROM {fam} f JOIN {tok} t ON t.family_id = f.id "
                "WHERE t.token_hash = ?",
                (token_hash,),
            ).fetchone()
        return None if row is None else family_from_row(row)

    def purge_families(self, before: float) -> int:
        tok, fam = self.table("refresh_tokens"), self.table("refresh_families")
        return self.delete_expired(tok, "token_hash", before) + self.delete_expired(
            fam, "id", before
        )
