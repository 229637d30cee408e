"""Rotating refresh tokens with reuse detection: the hybrid flow (short access JWT + refresh).

>>> refresh = RefreshTokens(store, access, idle_timeout=7 * DAY, absolute_timeout=30 * DAY,
...                         secret=REFRESH_SECRET, on_reuse=alert)         # doctest: +SKIP
>>> refresh_token, access_token = refresh.start("user-42", session=record)  # doctest: +SKIP
>>> refresh_token, access_token = refresh.rotate(refresh_token)           # doctest: +SKIP

* Refresh tokens are opaque (``rt_<tag>.<family id>~<256 bits>``), stored only as SHA-256,
  single use, and grouped in *families* (one per login). Every rotation returns a new refresh
  token and a new access token.
* Presenting an already-used token revokes the whole family, ends its session, revokes the
  session's access tokens (when the access tokens' mode can), calls ``on_reuse`` with a
  :class:`ReuseEvent` and raises :class:`~gatepass.errors.ReusedToken` (RFC 9700 section 4.14).
* A grace window (``grace`` seconds, default 5) lets two tabs that refresh at the same moment both
  succeed: the second gets *the same* successor, derived as an HMAC of the old token (see
  :mod:`gatepass.strategies._refresh_policy` for why that is safe). Outside it, reuse is theft.
* Idle and absolute lifetimes for the family; a family may belong to a session record
  (``session=``): revoking the session ends the family at its next rotation, and revoking the
  family (:meth:`revoke`, or reuse) revokes the session.
* Every decision is :func:`gatepass.strategies._refresh_policy.decide`, made in Python on one
  read of the store and written with a compare-and-set (``FamilyStore.family_advance``), so 200
  concurrent rotations of one token leave exactly one successor and one family state. The grace
  window is measured on the store's clock; a rotation that reaches a stalled store after the
  caller gave up changes nothing (the caller saw ``StoreUnavailable``, and its retry rotates).
"""

from __future__ import annotations

from gatepass.strategies._async.refresh import AsyncRefreshTokens
from gatepass.strategies._refresh_config import DAY
from gatepass.strategies._refresh_policy import ReuseEvent, family_of
from gatepass.strategies._sync.refresh import RefreshTokens

__all__ = ["DAY", "AsyncRefreshTokens", "RefreshTokens", "ReuseEvent", "family_of"]
