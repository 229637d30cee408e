"""DPoP proofs already accepted, in SQLite: one ``INSERT OR IGNORE`` per proof."""

from __future__ import annotations

from gatepass.stores.sqlite.connection import SQLiteConnections


def proof_ddl(db: SQLiteConnections) -> list[str]:
    table = db.table("dpop_proofs")
    return [
        f"""CREATE TABLE IF NOT EXISTS {table} (
            id TEXT PRIMARY KEY, expires_at REAL NOT NULL
        ) WITHOUT ROWID""",
        f"CREATE INDEX IF NOT EXISTS {db.index('dpop_proofs_exp')} ON {table} (expires_at)",
    ]


class SQLiteProofs(SQLiteConnections):
    """:class:`~gatepass.stores.protocols.ProofStore` on SQLite: the primary key makes the insert
    the atomic "record unless present" (every process using the file shares it)."""

    def proof_add(self, proof_id: str, expires_at: float) -> bool:
        sql = f"INSERT OR IGNORE INTO {self.table('dpop_proofs')} VALUES (?, ?)"
        return self.execute(sql, (proof_id, expires_at)).rowcount == 1

    def purge_proofs(self, before: float) -> int:
        return self.delete_expired(self.table("dpop_proofs"), "id", before)
