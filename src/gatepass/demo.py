"""`make demo`: every login-state design of the article, live on SQLite, and its table measured.

No server is needed: the store is one SQLite file under ``./demo-data`` (or ``--db PATH``). For each
design the walkthrough logs a user in, makes authenticated requests, then tries to log the user
out, and prints what happened. At the end it prints the article's comparison table with numbers
measured on this machine: credential size, verification cost and revocation delay.

    python -m gatepass.demo [--db PATH] [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from gatepass.errors import GatepassError, InvalidToken
from gatepass.stores import open_store
from gatepass.strategies.access import AccessTokens
from gatepass.strategies.keyring import KeyRing
from gatepass.strategies.refresh import RefreshTokens, ReuseEvent
from gatepass.strategies.sessions import Sessions
from gatepass.tokens import Key

ISSUER = "https://auth.demo.local"
AUDIENCE = "demo-api"
COOKIE_FLAGS = "Path=/; Secure; HttpOnly; SameSite=Lax"


def _cost_us(action: Callable[[], object], rounds: int) -> float:
    """Cost of ``action`` in microseconds: the lower quartile of ``rounds`` batches of 20 calls
    (robust against a busy machine, which only ever makes a batch slower)."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(20):
            action()
        samples.append((time.perf_counter() - start) / 20 * 1e6)
    return statistics.quantiles(samples, n=4)[0]


def _rejected(action: Callable[[], object]) -> str | None:
    """The error code if ``action`` is refused, else None."""
    try:
        action()
    except InvalidToken as exc:
        return exc.code
    return None


def _say(text: str = "") -> None:
    print(text, flush=True)


class Walkthrough:
    """One run of the demo; collects the rows of the measured table."""

    def __init__(self, db: Path, rounds: int) -> None:
        db.parent.mkdir(parents=True, exist_ok=True)
        self.url = f"sqlite:///{db}"
        self.store = open_store(self.url)
        self.store.setup()
        self.rounds = rounds
        self.rows: list[tuple[str, str, str, str]] = []
        self.key = Key.generate("ES256")

    def sessions(self) -> None:
        _say("1. Session cookie: opaque id in an HttpOnly cookie, state in SQLite")
        sessions = Sessions(self.store, idle_timeout=1800, absolute_timeout=43200)
        token, record = sessions.create("alice", metadata={"ua": "Firefox on Linux"})
        sessions.create("alice", metadata={"ua": "Safari on iPhone"})
        _say(f"   login   -> Set-Cookie: __Host-session={token[:12]}...; {COOKIE_FLAGS}")
        _say(f"              cookie value {len(token)} characters; the store keeps only SHA-256")
        live = sessions.get(token)
        _say(f"   request -> session of {live.user_id if live else None!r}, public id {record.id}")
        devices = [r.metadata.get("ua") for r in sessions.list("alice")]
        _say(f"   devices -> {devices}")
        cost = _cost_us(lambda: sessions.get(token), self.rounds)
        revoked = sessions.revoke_all("alice")
        after = sessions.get(token)
        _say(f"   'log out everywhere' revoked {revoked} sessions; next request sees {after}")
        self._row("Session cookie (SQLite)", len(token), cost, "1 lookup", "0: next request")

    def stateless(self) -> None:
        _say("2. Stateless JWT: signature check only, no database")
        access = AccessTokens(self.key, issuer=ISSUER, audience=AUDIENCE, ttl=900)
        token = access.issue("alice", scopes=("read",))
        claims = access.verify(token)
        _say(f"   login   -> Authorization: Bearer {token[:24]}... ({len(token)} bytes)")
        _say(f"   request -> verified sub={claims['sub']!r} with the public key only")
        cost = _cost_us(lambda: access.verify(token), self.rounds)
        remaining = int(claims["exp"] - time.time())
        _say(f"   logout  -> nothing to delete: the token stays valid {remaining} s, until exp")
        self._row("Stateless JWT (ES256)", len(token), cost, "no lookup", f"{remaining} s (exp)")

    def denylist(self) -> None:
        _say("3. JWT + denylist: revocation by jti and per-user cut-off, one lookup per verify")
        access = AccessTokens(
            self.key, issuer=ISSUER, audience=AUDIENCE, revocation="denylist", store=self.store
        )
        token = access.issue("alice")
        cost = _cost_us(lambda: access.verify(token), self.rounds)
        access.revoke_user("alice")
        code = _rejected(lambda: access.verify(token))
        _say(f"   'freeze account' -> next verify: {code}")
        self._row("JWT + denylist (SQLite)", len(token), cost, "1 lookup", "0: next request")

    def replicated(self) -> None:
        _say("4. JWT + replicated revocation: denylist kept in memory, changes pushed by the store")
        admin = AccessTokens(
            self.key, issuer=ISSUER, audience=AUDIENCE, revocation="replicated", store=self.store
        )
        api = AccessTokens(
            self.key.public(),
            issuer=ISSUER,
            audience=AUDIENCE,
            revocation="replicated",
            store=self.store,
        )
        try:
            token = admin.issue("bob")
            cost = _cost_us(lambda: api.verify(token), self.rounds)
            started = time.perf_counter()
            admin.revoke_user("bob")
            while _rejected(lambda: api.verify(token)) is None:
                if time.perf_counter() - started > 5:
                    raise SystemExit("replicated revocation did not arrive within 5 s")
                time.sleep(0.001)
            delay_ms = (time.perf_counter() - started) * 1e3
            _say(
                f"   'freeze account' in one instance -> the API instance rejects it"
                f" after {delay_ms:.0f} ms"
            )
            self._row(
                "JWT + replicated (SQLite)", len(token), cost, "no lookup", f"{delay_ms:.0f} ms"
            )
        finally:
            admin.close()
            api.close()

    def hybrid(self) -> None:
        _say("5. Hybrid: 15-minute access JWT + rotating refresh token in an HttpOnly cookie")
        events: list[ReuseEvent] = []
        ring = KeyRing(self.key)
        access = AccessTokens(
            ring, issuer=ISSUER, audience=AUDIENCE, revocation="denylist", store=self.store
        )
        refresh = RefreshTokens(self.store, access, grace=0, on_reuse=events.append)
        first, access_token = refresh.start("carol")
        _say(
            f"   login   -> refresh cookie {len(first)} chars (SameSite=Strict, refresh path),"
            f" access token {len(access_token)} B"
        )
        second, _ = refresh.rotate(first)
        _say("   refresh -> new pair; the old refresh token is now used up")
        code = _rejected(lambda: refresh.rotate(first))
        _say(f"   a thief replays the old refresh token -> {code}; family revoked")
        if events:
            _say(f"   the app's on_reuse hook saw: user {events[0].user_id!r}, family revoked")
        code = _rejected(lambda: refresh.rotate(second))
        _say(f"   the legitimate client's newer token -> {code} too: everyone logs in again")

    def _row(self, design: str, size: int, cost_us: float, lookups: str, delay: str) -> None:
        self.rows.append((design, f"{size} B", f"{cost_us:.0f} µs ({lookups})", delay))

    def table(self) -> None:
        _say()
        _say("The article's table, measured on this machine")
        header = ("design", "credential size", "verification cost", "revocation delay")
        widths = [max(len(r[i]) for r in [header, *self.rows]) for i in range(4)]
        for row in [header, tuple("-" * w for w in widths), *self.rows]:
            _say("  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))
        _say()
        _say(
            "Read it as the article does: sessions revoke instantly for one lookup; stateless JWTs "
            "verify without one but cannot be revoked; gatepass's replicated revocation keeps "
            "verification lookup-free and revokes within the poll interval."
        )

    def run(self) -> None:
        _say(f"gatepass demo on {self.url}\n")
        for step in (self.sessions, self.stateless, self.denylist, self.replicated, self.hybrid):
            step()
            _say()
        self.table()
        self.store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gatepass.demo", description=__doc__)
    parser.add_argument("--db", type=Path, default=Path("demo-data/gatepass-demo.db"))
    parser.add_argument("--rounds", type=int, default=30, help="timing batches per measurement")
    args = parser.parse_args(argv)
    try:
        Walkthrough(args.db, max(3, args.rounds)).run()
    except GatepassError as exc:
        print(f"demo failed: {exc.code}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
