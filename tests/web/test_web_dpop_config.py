"""``Gatepass(dpop=DPoPPolicy(...))`` is checked once, at start-up: an app that cannot enforce
DPoP as configured does not start (a WSGI app with an asyncio replay cache, DPoP without tokens to
bind, an HMAC algorithm, a nonce lifetime too short, an origin with a query, a replay cache that is
not one), and a route asking for DPoP in an app without a policy is a configuration error."""

from __future__ import annotations

from typing import Any

import pytest

from gatepass import AccessTokens, KeyRing, Sessions
from gatepass.errors import ConfigurationError
from gatepass.stores import open_async_store, open_store
from gatepass.web import DPoPPolicy, Gatepass, GatepassWSGIMiddleware
from gatepass.web.drive import run_sync
from gatepass.web.principal import AuthState
from gatepass.web.problems import Problem
from gatepass.web.require import require

SECRET = b"s" * 32


def _gatepass(**dpop: Any) -> Gatepass:
    access = AccessTokens(KeyRing.generate("ES256"), issuer="https://i.example", audience="a")
    return Gatepass(access_tokens=access, secret=SECRET, dpop=DPoPPolicy(**dpop))


@pytest.mark.parametrize(
    "options",
    [
        {"algorithms": ("HS256",)},
        {"algorithms": ("ES256", "none")},
        {"nonce_lifetime": 1},
        {"nonce_lifetime": float("nan")},
        {"origin": "https://app.example/api?x=1"},
        {"origin": "ftp://app.example"},
        {"replay": object()},
    ],
)
def test_unusable_policies_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        _gatepass(**options)


def test_dpop_needs_tokens_to_bind() -> None:
    with pytest.raises(ConfigurationError, match="access_tokens"):
        Gatepass(sessions=Sessions(open_store("memory://")), secret=SECRET, dpop=DPoPPolicy())


def test_a_wsgi_app_refuses_an_asyncio_replay_cache() -> None:
    gp = _gatepass(replay=open_async_store("memory://"))
    assert gp.asynchronous()
    with pytest.raises(ConfigurationError, match="blocking"):
        GatepassWSGIMiddleware(lambda environ, start: [], gp)
    assert not _gatepass(replay=open_store("memory://")).asynchronous()


def test_a_dpop_route_without_a_policy_is_a_configuration_error() -> None:
    access = AccessTokens(KeyRing.generate("ES256"), issuer="https://i.example", audience="a")
    gp = Gatepass(access_tokens=access, secret=SECRET)
    with pytest.raises(ConfigurationError, match="DPoPPolicy"):
        run_sync(require(AuthState(gp), dpop=True), lambda: b"")


def test_the_challenge_names_the_algorithms() -> None:
    gp = _gatepass(algorithms=("ES256", "EdDSA"))
    assert gp.dpop is not None
    assert gp.dpop.challenge() == 'DPoP algs="ES256 EdDSA"'
    quoted = gp.dpop.challenge("invalid_dpop_proof", 'a "quoted"\\ detail\n')
    assert quoted == (
        'DPoP error="invalid_dpop_proof", error_description="a quoted detail", algs="ES256 EdDSA"'
    )


@pytest.mark.parametrize(
    ("required", "route_needs_dpop", "offers_bearer"),
    [(False, False, True), (True, False, False), (False, True, False), (True, True, False)],
)
def test_an_anonymous_request_is_offered_only_the_schemes_that_can_succeed(
    required: bool, route_needs_dpop: bool, offers_bearer: bool
) -> None:
    """RFC 9449 7.1: a resource that takes both bearer and DPoP tokens names both schemes; one
    that takes DPoP-bound tokens only (the policy's ``required``, or a route's ``dpop=True``)
    must not invite a bearer token it would refuse."""
    gp = _gatepass(required=required)
    with pytest.raises(Problem) as refused:
        run_sync(require(AuthState(gp), dpop=route_needs_dpop), lambda: b"")
    challenge = refused.value.www_authenticate or ""
    assert refused.value.status == 401
    assert 'DPoP algs="' in challenge
    assert ("Bearer" in challenge) is offers_bearer
