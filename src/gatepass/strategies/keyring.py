"""A signing key ring: one active key, older keys kept for verification until their tokens expire.

Why a ring and not a key: rotating a signing key must not log anybody out. Tokens signed with the
previous key stay valid until they expire, so the previous key must keep verifying for at least the
longest token lifetime after it stops signing; after that it is useless and is dropped (a retired
key that lingers forever is one more key an attacker can try to steal).

Services that verify through a remote JWKS cache the document for minutes (``max_age``), so a key
that starts signing before those caches have seen it causes a short outage. ``stage()`` publishes
the next key in :meth:`KeyRing.jwks` *before* :meth:`KeyRing.rotate` makes it the signer: stage,
wait at least the verifiers' JWKS max age, then rotate. Rotating without staging also works for
verifiers that refetch on an unknown ``kid`` (the gatepass JWKS client does, within its cooldown).

The ring is thread-safe; readers get an immutable :class:`~gatepass.tokens.keys.KeySet` snapshot.
It holds keys in memory only: load them from your secret store at start-up (PEM or JWK) and pass
them in; persisting private keys is deliberately not this class's job.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from gatepass.errors import ConfigurationError, KeyUsageError
from gatepass.stores.limits import check_seconds, checked_clock
from gatepass.tokens.keys import Key, KeySet

DEFAULT_RETAIN = 900 + 60
"""Seconds a retired key keeps verifying: the default access-token lifetime plus a minute."""


@dataclass(frozen=True, slots=True)
class _Retired:
    key: Key
    until: float  # the key is dropped once the clock passes this instant


class KeyRing:
    """One active signing key, an optional staged successor, and retired verification keys.

    ``retain`` is how long (seconds) a key keeps verifying after it stops signing; set it to at
    least the longest lifetime of any token the ring signs (plus your leeway). ``AccessTokens``
    refuses a ``ttl`` longer than the ring's ``retain``.
    """

    def __init__(
        self,
        active: Key,
        *,
        retired: Iterable[Key] = (),
        staged: Key | None = None,
        retain: float = DEFAULT_RETAIN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # Finite: a NaN ``retain`` kept retired keys forever and slipped past AccessTokens' check
        # that the ring outlives its tokens; each clock reading is checked for the same reason.
        self.retain = check_seconds(retain, "retain")
        _require_signing_key(active)
        if staged is not None:
            _require_signing_key(staged)  # it becomes the active key on rotate()
        retired = tuple(retired) if isinstance(retired, Iterable) else (retired,)
        if not all(isinstance(k, Key) for k in retired):
            raise KeyUsageError("a key ring's retired keys are Key objects")
        self._lock = threading.Lock()
        self._clock = checked_clock(clock)
        self._active = active
        self._staged = staged
        now = self._clock()
        self._retired: list[_Retired] = [_Retired(k, now + self.retain) for k in retired]
        self._check_unique_kids()
        self._snapshot = self._build()

    @classmethod
    def generate(
        cls,
        alg: str = "ES256",
        *,
        retain: float = DEFAULT_RETAIN,
        clock: Callable[[], float] = time.time,
    ) -> KeyRing:
        """A ring with a freshly generated active key (for tests, demos and single-process apps)."""
        return cls(Key.generate(alg), retain=retain, clock=clock)

    # --- reading -------------------------------------------------------------------------------

    @property
    def active(self) -> Key:
        """The key that signs new tokens."""
        return self._active

    @property
    def staged(self) -> Key | None:
        """The next signing key, already published for verification, or ``None``."""
        return self._staged

    def keyset(self) -> KeySet:
        """Every key that may verify right now: active, staged and not-yet-expired retired keys."""
        snapshot = self._snapshot
        if self._retired and self._retired[0].until <= self._clock():
            with self._lock:
                self._prune_locked()
                snapshot = self._snapshot
        return snapshot

    def jwks(self) -> dict[str, Any]:
        """The public JWKS document (``{"keys": [...]}``) to serve to verifiers.

        HMAC secrets are symmetric and can never be published; a ring of HMAC keys serves an
        empty document (and is only useful inside one trust domain).
        """
        keys = []
        for key in self.keyset():
            if key.kty == "oct":
                continue
            keys.append(key.public().to_jwk())
        return {"keys": keys}

    # --- changing ------------------------------------------------------------------------------

    def stage(self, key: Key) -> None:
        """Publish ``key`` for verification now; :meth:`rotate` will make it the signer."""
        _require_signing_key(key)
        with self._lock:
            self._staged = key
            self._check_unique_kids()
            self._snapshot = self._build()

    def rotate(self, new_key: Key | None = None) -> Key:
        """Make ``new_key`` (or the staged key, or a fresh key of the same alg) the signer.

        The previous active key is retired: it keeps verifying for ``retain`` seconds, so every
        token it signed stays valid until it expires. Returns the new active key.
        """
        with self._lock:
            if new_key is None:
                new_key = (
                    self._staged if self._staged is not None else Key.generate(self._active.alg)
                )
            _require_signing_key(new_key)
            if new_key.kid == self._active.kid or any(
                r.key.kid == new_key.kid for r in self._retired
            ):
                raise ConfigurationError("the new signing key reuses the kid of a ring key")
            self._retired.append(_Retired(self._active, self._clock() + self.retain))
            self._retired.sort(key=lambda r: r.until)
            self._active = new_key
            if self._staged is not None and self._staged.kid == new_key.kid:
                self._staged = None
            self._check_unique_kids()
            self._prune_locked()
            return new_key

    def revoke_key(self, kid: str) -> None:
        """Drop a retired or staged key at once (it leaked): tokens it signed stop verifying."""
        with self._lock:
            if kid == self._active.kid:
                raise ConfigurationError("cannot drop the active key; rotate first")
            self._retired = [r for r in self._retired if r.key.kid != kid]
            if self._staged is not None and self._staged.kid == kid:
                self._staged = None
            self._snapshot = self._build()

    # --- internals ---------------------------------------------------------------------------

    def _prune_locked(self) -> None:
        now = self._clock()
        self._retired = [r for r in self._retired if r.until > now]
        self._snapshot = self._build()

    def _build(self) -> KeySet:
        keys = [self._active]
        if self._staged is not None:
            keys.append(self._staged)
        keys.extend(r.key for r in self._retired)
        # Verification needs only public halves; HMAC secrets have none.
        return KeySet([k if k.kty == "oct" else k.public() for k in keys])

    def _check_unique_kids(self) -> None:
        kids = [self._active.kid, *(r.key.kid for r in self._retired)]
        if self._staged is not None:
            kids.append(self._staged.kid)
        if len(set(kids)) != len(kids):
            raise ConfigurationError("every key in a key ring needs its own kid")


def _require_signing_key(key: Key) -> None:
    if not isinstance(key, Key):  # an AttributeError otherwise, or a ring that cannot sign
        raise KeyUsageError(f"a key ring holds Key objects, not {type(key).__name__}")
    if not key.is_private:
        raise KeyUsageError("a key ring signs: it needs a private key or an HMAC secret")
