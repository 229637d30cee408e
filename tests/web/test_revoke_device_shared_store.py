"""Revoking one hybrid login ("your devices", logout) ends its access tokens at once, also when
cookie sessions and the hybrid share one store (found by the reference app's browser tests)."""

from __future__ import annotations

import secrets

import pytest

from gatepass import AccessTokens, KeyRing, RefreshTokens, RevokedToken, Sessions, open_store
from gatepass.web import Gatepass
from gatepass.web.drive import run_sync
from gatepass.web.endpoints.logout import revoke_device_of


@pytest.mark.parametrize("mode", ["denylist", "replicated"])
def test_revoking_a_hybrid_login_revokes_its_access_tokens(mode: str) -> None:
    store = open_store("memory://")
    store.setup()
    access = AccessTokens(
        KeyRing.generate(), issuer="iss", audience="aud", revocation=mode, store=store
    )
    try:
        gp = Gatepass(
            sessions=Sessions(store),
            refresh_tokens=RefreshTokens(store, access),
            secret=secrets.token_bytes(32),
        )
        assert gp.anchors is not None and gp.refresh is not None
        _, record = gp.anchors.create("u1", metadata={"design": "hybrid"})
        refresh_token, access_token = gp.refresh.start("u1", session=record)
        assert access.verify(access_token)["sid"] == record.id

        assert run_sync(revoke_device_of(gp, "u1", record.id), bytes) is True

        with pytest.raises(RevokedToken):
            access.verify(access_token)
        with pytest.raises(RevokedToken):
            gp.refresh.rotate(refresh_token)
    finally:
        access.close()
