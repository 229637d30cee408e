"""The console walkthrough: every design of the article, live on SQLite, told step by step.

For each design it logs a user in, makes an authenticated request, then logs the user out (or
tries to) and prints what happened. No server is needed: the store is one SQLite file. The
numbers come afterwards, from the measured comparison (:mod:`gatepass.compare.run`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from gatepass import AccessTokens, Key, KeyRing, RefreshTokens, Sessions, open_store
from gatepass.compare.checks import AUDIENCE, ISSUER
from gatepass.compare.headers import COOKIES
from gatepass.errors import InvalidToken
from gatepass.strategies.dpop import StoreReplayCache
from gatepass.tokens.dpop import DPoPVerifier, create_proof

COOKIE_FLAGS = "Path=/; Secure; HttpOnly; SameSite=Lax"
#: How long the replicated step waits for a revocation to reach the second instance.
PROPAGATION_LIMIT = 5.0
LOGIN_URL = "https://auth.example/auth/login"


def _rejected(action: Callable[[], object]) -> str | None:
    """The error code if ``action`` is refused, else None."""
    try:
        action()
    except InvalidToken as exc:
        return exc.code
    return None


class Walkthrough:
    """One run of the story on the SQLite file ``db``; ``say`` prints one line."""

    def __init__(self, db: Path, say: Callable[[str], None]) -> None:
        db.parent.mkdir(parents=True, exist_ok=True)
        self.url = f"sqlite:///{db}"
        self.store = open_store(self.url)
        self.store.setup()
        self.say = say
        self.key = Key.generate("ES256")

    def sessions(self) -> None:
        say = self.say
        say("1. Session cookie: opaque id in an HttpOnly cookie, state in SQLite")
        sessions = Sessions(self.store, idle_timeout=1800, absolute_timeout=43200)
        token, record = sessions.create("alice", metadata={"ua": "Firefox on Linux"})
        sessions.create("alice", metadata={"ua": "Safari on iPhone"})
        say(f"   login   -> Set-Cookie: {COOKIES.session}={token[:12]}...; {COOKIE_FLAGS}")
        say(f"              cookie value {len(token)} characters; the store keeps only SHA-256")
        live = sessions.get(token)
        say(f"   request -> session of {live.user_id if live else None!r}, public id {record.id}")
        devices = [r.metadata.get("ua") for r in sessions.list("alice")]
        say(f"   devices -> {devices}")
        revoked = sessions.revoke_all("alice")
        after = sessions.get(token)
        say(f"   'log out everywhere' revoked {revoked} sessions; next request sees {after}")

    def stateless(self) -> None:
        say = self.say
        say("2. Stateless JWT: signature check only, no database")
        access = AccessTokens(self.key, issuer=ISSUER, audience=AUDIENCE, ttl=900)
        token = access.issue("alice", scopes=("read",))
        claims = access.verify(token)
        say(f"   login   -> Authorization: Bearer {token[:24]}... ({len(token)} bytes)")
        say(f"   request -> verified sub={claims['sub']!r} with the public key only")
        remaining = int(claims["exp"] - time.time())
        say(f"   logout  -> nothing to delete: the token stays valid {remaining} s, until exp")

    def denylist(self) -> None:
        self.say("3. JWT + denylist: revocation by jti and per-user cut-off, one lookup per verify")
        access = AccessTokens(
            self.key, issuer=ISSUER, audience=AUDIENCE, revocation="denylist", store=self.store
        )
        token = access.issue("alice")
        access.revoke_user("alice")
        code = _rejected(lambda: access.verify(token))
        self.say(f"   'freeze account' -> next verify: {code}")

    def replicated(self) -> None:
        say = self.say
        say("4. JWT + replicated revocation: denylist kept in memory, changes pushed by the store")
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
            api.verify(token)
            started = time.perf_counter()
            admin.revoke_user("bob")
            while _rejected(lambda: api.verify(token)) is None:
                if time.perf_counter() - started > PROPAGATION_LIMIT:
                    say(
                        f"   the revocation did not reach the API instance in {PROPAGATION_LIMIT} s"
                    )
                    return
                time.sleep(0.001)
            delay_ms = (time.perf_counter() - started) * 1e3
            say(
                "   'freeze account' in one instance -> the API instance rejects it"
                f" after {delay_ms:.0f} ms"
            )
        finally:
            admin.close()
            api.close()

    def hybrid(self) -> None:
        say = self.say
        say("5. Hybrid: 15-minute access JWT + rotating refresh token in an HttpOnly cookie")
        reused_by: list[str] = []
        access = AccessTokens(
            KeyRing(self.key),
            issuer=ISSUER,
            audience=AUDIENCE,
            revocation="denylist",
            store=self.store,
        )
        refresh = RefreshTokens(
            self.store, access, grace=0, on_reuse=lambda event: reused_by.append(event.user_id)
        )
        first, access_token = refresh.start("carol")
        say(
            f"   login   -> {COOKIES.refresh} cookie {len(first)} chars (SameSite=Strict, "
            f"Path={COOKIES.refresh_path}), access token {len(access_token)} B"
        )
        second, _ = refresh.rotate(first)
        say("   refresh -> new pair; the old refresh token is now used up")
        code = _rejected(lambda: refresh.rotate(first))
        say(f"   a thief replays the old refresh token -> {code}; family revoked")
        if reused_by:
            say(f"   the app's on_reuse hook saw: user {reused_by[0]!r}, family revoked")
        code = _rejected(lambda: refresh.rotate(second))
        say(f"   the legitimate client's newer token -> {code} too: everyone logs in again")

    def hybrid_dpop(self) -> None:
        say = self.say
        say("6. Hybrid + DPoP: both tokens bound to a key the browser cannot export (RFC 9449)")
        access = AccessTokens(KeyRing(self.key), issuer=ISSUER, audience=AUDIENCE)
        refresh = RefreshTokens(self.store, access)
        proofs = DPoPVerifier(replay=StoreReplayCache(self.store))
        device, thief = Key.generate("ES256"), Key.generate("ES256")
        url = "https://api.example/orders"
        login = proofs.verify(
            create_proof(device, method="POST", url=LOGIN_URL), method="POST", url=LOGIN_URL
        )
        refresh_token, access_token = refresh.start("dave", jkt=login.jkt)
        say(f"   login with a proof -> the tokens are bound to key {login.jkt[:12]}...")

        def request(key: Key) -> object:
            proof = create_proof(key, method="GET", url=url, access_token=access_token)
            checked = proofs.verify(proof, method="GET", url=url, access_token=access_token)
            return access.verify(access_token, proof=checked)

        code = _rejected(lambda: request(device))
        say(f"   request with a fresh proof from the device -> {code or 'accepted'}")
        code = _rejected(lambda: access.verify(access_token))
        say(f"   a thief sends the copied access token as a bearer token -> {code}")
        say(f"   ... with a proof of its own key -> {_rejected(lambda: request(thief))}")
        code = _rejected(lambda: refresh.rotate(refresh_token))
        say(f"   ... replays the copied refresh cookie without the key -> {code}; nothing burnt")
        code = _rejected(lambda: refresh.rotate(refresh_token, jkt=device.thumbprint()))
        say(f"   the device refreshes with its key -> {code or 'accepted'}: still logged in")

    def run(self) -> None:
        self.say(f"gatepass walkthrough on {self.url}")
        self.say("")
        try:
            for step in (
                self.sessions,
                self.stateless,
                self.denylist,
                self.replicated,
                self.hybrid,
                self.hybrid_dpop,
            ):
                step()
                self.say("")
        finally:
            self.store.close()
