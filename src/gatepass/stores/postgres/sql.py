"""The PostgreSQL schema and statements, without I/O (shared by the blocking and asyncio store).

Every statement names its tables through :meth:`Statements.table` (schema-qualified, prefixed,
quoted identifiers checked by :func:`~gatepass.stores.sqlrows.check_identifier`); every value is
a bound parameter. Reads return the jsonb columns as text, decoded once per distinct text
(:func:`~gatepass.stores.jsontext.load_json_object`).
"""

from __future__ import annotations

from gatepass.stores.sqlrows import (
    FAMILY_ADDED,
    FAMILY_COLUMNS,
    SESSION_COLUMNS,
    check_identifier,
    family_read_sql,
    lookup_sql,
)

#: The server's clock in seconds: the store's clock for refresh rotations.
CLOCK = "extract(epoch from clock_timestamp())::float8"
#: Serialises concurrent ``CREATE ... IF NOT EXISTS`` from several processes (PostgreSQL can
#: raise unique violations on its catalogs when two sessions race to create the same object).
DDL_LOCK_KEY = 0x67617465  # "gate"
PURGE_BATCH = 10000


class Statements:
    """Every statement of one store (one schema and prefix)."""

    def __init__(self, schema: str, prefix: str) -> None:
        self.schema = check_identifier(schema, "schema")
        self.prefix = check_identifier(prefix, "table prefix", allow_empty=True)
        s = self.table("sessions")
        fam, tok, rev = (
            self.table("refresh_families"),
            self.table("refresh_tokens"),
            self.table("revocations"),
        )
        read = SESSION_COLUMNS.replace("metadata, data", "metadata::text, data::text")
        self.session_get = f"SELECT {read} FROM {s} WHERE token_hash = %s"
        self.session_insert = (
            f"INSERT INTO {s} (token_hash, {SESSION_COLUMNS}) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb)"
        )
        # Compare-and-set: a touch or a rotation always sets last_seen_at, so an unchanged
        # last_seen_at means an unchanged row.
        self.session_touch = (
            f"UPDATE {s} SET last_seen_at = %s, expires_at = %s "
            "WHERE token_hash = %s AND last_seen_at = %s"
        )
        self.session_move = (
            f"UPDATE {s} SET token_hash = %s, last_seen_at = %s, expires_at = %s, "
            "authenticated_at = %s WHERE token_hash = %s AND last_seen_at = %s"
        )
        self.session_set_data = (
            f"UPDATE {s} SET data = %s::jsonb WHERE token_hash = %s AND data = %s::jsonb"
        )
        self.session_revoke = f"DELETE FROM {s} WHERE token_hash = %s RETURNING id"
        self.session_revoke_id = f"DELETE FROM {s} WHERE user_id = %s AND id = %s"
        self.session_revoke_user = (
            f"DELETE FROM {s} WHERE user_id = %s AND token_hash IS DISTINCT FROM %s::bytea "
            "RETURNING id"
        )
        self.session_list = f"SELECT {read} FROM {s} WHERE user_id = %s ORDER BY created_at"
        self.session_purge = (
            f"DELETE FROM {s} WHERE token_hash IN (SELECT token_hash FROM {s} "
            f"WHERE expires_at <= %s LIMIT {PURGE_BATCH})"
        )
        self.family_insert = (
            f"INSERT INTO {fam} ({FAMILY_COLUMNS}) VALUES ({', '.join(['%s'] * 12)})"
        )
        self.token_insert = f"INSERT INTO {tok} VALUES (%s, %s, %s, %s)"
        self.family_read = family_read_sql(fam, tok, s, "%s", CLOCK).replace(
            "s.metadata, s.data", "s.metadata::text, s.data::text"
        )
        # One statement: the compare-and-set of the family (fenced: it applies only while the
        # server's clock is before the caller's deadline) and the new token's row; it answers
        # whether the family moved, and whether the deadline had passed.
        advance = (
            f"WITH up AS (UPDATE {fam} SET generation = generation + 1, last_used_at = %s, "
            f"rotated_at = {CLOCK} WHERE id = %s AND generation = %s AND NOT revoked "
            f"AND {CLOCK} < %s{{guard}} RETURNING id, generation, expires_at), "
            f"ins AS (INSERT INTO {tok} (token_hash, family_id, generation, expires_at) "
            "SELECT %s, id, generation, expires_at FROM up ON CONFLICT (token_hash) DO NOTHING) "
            f"SELECT (SELECT count(*) FROM up), {CLOCK} >= %s"
        )
        self.family_advance = advance.format(guard="")
        self.family_advance_guarded = advance.format(
            guard=f" AND EXISTS (SELECT 1 FROM {s} WHERE token_hash = %s)"
        )
        self.family_revoke = f"UPDATE {fam} SET revoked = true WHERE id = %s AND NOT revoked"
        self.family_revoke_token = (
            f"UPDATE {fam} SET revoked = true WHERE id = "
            f"(SELECT family_id FROM {tok} WHERE token_hash = %s) RETURNING {FAMILY_COLUMNS}"
        )
        columns = ", ".join(f"f.{c.strip()}" for c in FAMILY_COLUMNS.split(","))
        self.family_of = (
            f"SELECT {columns} FROM {fam} f JOIN {tok} t ON t.family_id = f.id "
            "WHERE t.token_hash = %s"
        )
        self.family_purge = [f"DELETE FROM {t} WHERE expires_at <= %s" for t in (tok, fam)]
        self.revocation_add = (
            f"WITH up AS (INSERT INTO {rev} AS r (kind, key, value, expires_at) "
            "VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (kind, key) DO UPDATE SET value = GREATEST(r.value, EXCLUDED.value), "
            "expires_at = GREATEST(r.expires_at, EXCLUDED.expires_at) "
            "RETURNING kind, key, value, expires_at) "
            "SELECT pg_notify(%s, kind || '|' || expires_at::text || '|' || value::text "
            "|| '|' || key) FROM up"
        )
        self.revocation_lookup = lookup_sql(rev, "%s")
        self.revocation_snapshot = (
            f"SELECT kind, key, value, expires_at FROM {rev} WHERE expires_at > %s"
        )
        self.revocation_purge = f"DELETE FROM {rev} WHERE expires_at <= %s"
        self.channel = f"{self.schema}.{self.prefix}revocations"[:63]
        proofs = self.table("dpop_proofs")
        self.proof_add = (
            f"INSERT INTO {proofs} (id, expires_at) VALUES (%s, %s) ON CONFLICT (id) DO NOTHING"
        )
        self.proof_purge = (
            f"DELETE FROM {proofs} WHERE id IN (SELECT id FROM {proofs} "
            f"WHERE expires_at <= %s LIMIT {PURGE_BATCH})"
        )

    def table(self, name: str) -> str:
        return f'"{self.schema}"."{self.prefix}{check_identifier(name, "table name")}"'

    def index(self, name: str) -> str:
        return f'"{self.prefix}{check_identifier(name, "index name")}"'

    def ddl(self) -> list[str]:
        s = self.table("sessions")
        fam, tok, rev = (
            self.table("refresh_families"),
            self.table("refresh_tokens"),
            self.table("revocations"),
        )
        return [
            f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"',
            f"""CREATE TABLE IF NOT EXISTS {s} (
                token_hash bytea PRIMARY KEY,
                id text NOT NULL,
                user_id text NOT NULL,
                created_at double precision NOT NULL,
                authenticated_at double precision NOT NULL,
                last_seen_at double precision NOT NULL,
                expires_at double precision NOT NULL,
                absolute_expires_at double precision NOT NULL,
                remember boolean NOT NULL,
                metadata jsonb NOT NULL,
                data jsonb NOT NULL
            )""",
            f"CREATE INDEX IF NOT EXISTS {self.index('sessions_user')} ON {s} (user_id, id)",
            f"CREATE INDEX IF NOT EXISTS {self.index('sessions_expiry')} ON {s} (expires_at)",
            f"""CREATE TABLE IF NOT EXISTS {fam} (
                id text PRIMARY KEY, user_id text NOT NULL, sid text,
                created_at double precision NOT NULL, last_used_at double precision NOT NULL,
                generation integer NOT NULL, rotated_at double precision NOT NULL,
                revoked boolean NOT NULL, expires_at double precision NOT NULL)""",
            *(
                f"ALTER TABLE {fam} ADD COLUMN IF NOT EXISTS {name} "
                + kind.replace("REAL", "double precision")
                for name, kind in FAMILY_ADDED
            ),
            f"""CREATE TABLE IF NOT EXISTS {tok} (
                token_hash bytea PRIMARY KEY, family_id text NOT NULL,
                generation integer NOT NULL, expires_at double precision NOT NULL)""",
            f"CREATE INDEX IF NOT EXISTS {self.index('refresh_families_exp')} "
            f"ON {fam} (expires_at)",
            f"CREATE INDEX IF NOT EXISTS {self.index('refresh_tokens_exp')} ON {tok} (expires_at)",
            f"""CREATE TABLE IF NOT EXISTS {rev} (
                kind text NOT NULL, key text NOT NULL, value bigint NOT NULL,
                expires_at double precision NOT NULL, PRIMARY KEY (kind, key))""",
            f"CREATE INDEX IF NOT EXISTS {self.index('revocations_exp')} ON {rev} (expires_at)",
            f"""CREATE TABLE IF NOT EXISTS {self.table("dpop_proofs")} (
                id text PRIMARY KEY, expires_at double precision NOT NULL)""",
            f"CREATE INDEX IF NOT EXISTS {self.index('dpop_proofs_exp')} "
            f"ON {self.table('dpop_proofs')} (expires_at)",
        ]
