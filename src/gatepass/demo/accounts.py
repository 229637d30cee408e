"""The demo's user accounts: who exists, their password hashes, who is an admin, who is frozen.

Passwords are checked the way an application using gatepass should: with a well-kept hasher
(argon2-cffi, its default parameters), never a hand-made one, off the event loop (a hash costs
tens of milliseconds of CPU), and with the same work for an unknown user name as for a known one
(a dummy hash is verified), so the response time does not reveal which names exist.

The accounts live in memory: the demo starts with the same three users every time. A frozen
account cannot log in again; "freeze" itself (ending every login) is :mod:`gatepass.demo.admin`.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["DEMO_USERS", "Accounts", "DemoUser"]


@dataclass(frozen=True, slots=True)
class DemoUser:
    name: str
    password: str
    role: str  # "admin" or "user"


#: Printed by ``make demo`` and shown on every login form: it is a demo.
DEMO_USERS = (
    DemoUser("alice", "correct horse battery staple", "user"),
    DemoUser("bob", "purple monkey dishwasher", "user"),
    DemoUser("admin", "admin demo password", "admin"),
)


class Accounts:
    """Password checks, roles and the frozen flag of the demo users."""

    def __init__(self, users: tuple[DemoUser, ...] = DEMO_USERS) -> None:
        self._hasher = PasswordHasher()
        self.users = {user.name: user for user in users}
        self._hashes = {user.name: self._hasher.hash(user.password) for user in users}
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
        self._frozen: set[str] = set()

    def _check(self, username: str, password: str) -> str | None:
        stored = self._hashes.get(username, self._dummy)
        try:
            self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if username not in self._hashes or username in self._frozen:
            return None
        return username

    async def check_password(self, username: str, password: str) -> str | None:
        """The user id for a correct password of a usable account, else None
        (``Gatepass(check_password=...)``)."""
        return await asyncio.to_thread(self._check, username, password)

    def exists(self, user_id: str) -> bool:
        return user_id in self.users

    def is_admin(self, user_id: str) -> bool:
        user = self.users.get(user_id)
        return user is not None and user.role == "admin"

    def is_frozen(self, user_id: str) -> bool:
        return user_id in self._frozen

    def set_frozen(self, user_id: str, frozen: bool) -> None:
        if frozen:
            self._frozen.add(user_id)
        else:
            self._frozen.discard(user_id)

    def listing(self) -> list[dict[str, object]]:
        """Every account as the admin views show it (never a password or hash)."""
        return [
            {"user_id": name, "role": user.role, "frozen": name in self._frozen}
            for name, user in self.users.items()
        ]
