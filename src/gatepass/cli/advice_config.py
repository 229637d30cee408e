"""The Python configuration ``gatepass advise`` prints for each design.

Every snippet is a program that runs as printed once the names a login handler provides are
defined (``user_id``, ``ua``, ``ip``, ``remember_me``) and ``gatepass keygen ES256 --out signing``
has made the key file: ``tests/cli/test_cli_advise_config.py`` runs each of them against a real
Redis, so a snippet that stops short (no ``store.setup()``, an undefined name) fails a test.
"""

from __future__ import annotations

from collections.abc import Mapping

_STORE = """\
store = gatepass.open_store("redis://127.0.0.1:6379/0")  # or sqlite:///..., postgresql://...
store.setup()  # creates the tables or scripts it needs; safe to run on every start
"""

_SESSIONS = """\
import gatepass

{store}sessions = gatepass.Sessions(
    store,
    idle_timeout=30 * 60,  # signed out after 30 min without a request
    absolute_timeout=12 * 3600,  # and after 12 h whatever happens
    touch_interval=60,  # sliding renewal writes at most once a minute{remember_opts}
)

# Login, after checking the password (user_id, ua, ip{remember_name} come from your handler):
# a fresh session every time, so a session id planted before login is never adopted.
token, record = sessions.create(user_id, remember={remember}, metadata={{"ua": ua, "ip": ip}})
# Set-Cookie: __Host-session=<token>; Secure; HttpOnly; SameSite={samesite}; Path=/{cookie_note}

# Every request, with token = that cookie's value: one store lookup; None: not logged in.
record = sessions.get(token)

# "Log out everywhere else", then logout (each takes effect on the very next request):
sessions.revoke_all(user_id, except_token=token)
sessions.revoke(token)
"""

_REMEMBER_SESSIONS = """
    remember_idle_timeout=14 * 86400,  # remember-me: 14 days idle
    remember_absolute_timeout=30 * 86400,  # and 30 days at most, still revocable"""

_ACCESS = """\
import os
from pathlib import Path

import gatepass

{store}# Signing key from `gatepass keygen ES256 --out signing`; the ring keeps old keys verifying
# until their tokens expire when you rotate.
keys = gatepass.KeyRing(gatepass.Key.from_pem(Path("signing.key.pem").read_bytes()))
access = gatepass.AccessTokens(
    keys,
    issuer="https://auth.example.com",
    audience="{audience}",
    ttl={ttl},  # {ttl_note}
    revocation="{revocation}",  # {revocation_note}
    store=store,
)
"""

_REFRESH = """\
refresh = gatepass.RefreshTokens(
    store,
    access,
    idle_timeout={idle},  # {idle_note}
    absolute_timeout={absolute},  # {absolute_note}
    # 32+ random bytes (python -c "import secrets; print(secrets.token_hex(32))"), the same in
    # every process that serves the refresh endpoint:
    secret=bytes.fromhex(os.environ["REFRESH_SECRET"]),
)

# Login: a refresh token (single use, rotated, reuse revokes its whole family) and an access JWT.
refresh_token, access_token = refresh.start(user_id)
{delivery}
# Every API request: Authorization: Bearer <access_token>; no store lookup{lookup_note}.
claims = access.verify(access_token)  # raises gatepass.InvalidToken

# When the access token expires (401): swap the refresh token for a new pair.
refresh_token, access_token = refresh.rotate(refresh_token)

# Logout: end the refresh family{logout_note}.
refresh.revoke(refresh_token)
"""

_SPA_DELIVERY = """\
# Return access_token in the JSON body: the SPA keeps it in memory, never in localStorage.
# Set-Cookie: __Secure-refresh=<refresh_token>; Secure; HttpOnly; SameSite={samesite};
#             Path=/auth/refresh{cors}"""

_MOBILE_DELIVERY = """\
# Return both in the JSON body. The app stores refresh_token in the Keychain / Android
# Keystore (never in plain preferences) and keeps access_token in memory; no cookies."""

_MICRO = """\
# Auth service: issue short access tokens for the services.
access_token = access.issue(user_id, scopes=("orders:read",))
# Publish the public keys at https://auth.example.com/.well-known/jwks.json:
jwks_document = keys.jwks()  # or once, from files: gatepass jwks signing.pub.pem

# Every other service verifies locally (no call back to the auth service):
verifier = gatepass.AccessTokens(
    gatepass.JWKSClient("https://auth.example.com/.well-known/jwks.json"),
    issuer="https://auth.example.com",
    audience="orders",{verifier_revocation}
)
# The Authorization: Bearer value; signature, exp, iss, aud and typ at+jwt checked:
claims = verifier.verify(access_token)
"""

_REVOKE_NOTE = """
# Instant revocation: every process holds the denylist in memory and gets changes pushed
# through the store, so verify stays lookup-free.
access.revoke(access_token)  # this token, everywhere
access.revoke_user(user_id)  # "freeze account": every token issued before now
"""


def sessions_config(needs: Mapping[str, bool]) -> str:
    cross = needs["cross_domain"]
    remember = needs["remember_me"]
    return _SESSIONS.format(
        store=_STORE,
        remember="remember_me" if remember else "False",
        remember_name=" and remember_me" if remember else "",
        remember_opts=_REMEMBER_SESSIONS if remember else "",
        samesite="None" if cross else "Lax",
        cookie_note=(
            "\n# Cross-site: SameSite=None needs CORS with credentials for exact origins, and CSRF"
            "\n# checks (Origin / Sec-Fetch-Site) in your framework until gatepass's web layer."
            if cross
            else ""
        ),
    )


def access_config(needs: Mapping[str, bool], *, audience: str) -> str:
    instant = needs["instant_revocation"]
    if instant:
        ttl, ttl_note = 5 * 60, "5 min: short, even with revocation"
    else:
        ttl, ttl_note = 15 * 60, "15 min: a stolen token is useful only this long"
    return _ACCESS.format(
        store=_STORE,
        audience=audience,
        ttl=ttl,
        ttl_note=ttl_note,
        revocation="replicated" if instant else "stateless",
        revocation_note=(
            "denylist pushed to every process: lookup-free verify"
            if instant
            else "valid until exp; no lookups at all"
        ),
    )


def refresh_config(needs: Mapping[str, bool], *, mobile: bool) -> str:
    long = needs["remember_me"] or mobile
    cross = needs["cross_domain"]
    if mobile:
        delivery = _MOBILE_DELIVERY
    else:
        delivery = _SPA_DELIVERY.format(
            samesite="None" if cross else "Strict",
            cors=(
                "\n# Cross-site API: CORS with credentials for the SPA's exact origin only, and"
                "\n# an Origin check on /auth/refresh against CSRF."
                if cross
                else ""
            ),
        )
    return _REFRESH.format(
        idle=f"{30 if long else 1} * 86400" if long else "24 * 3600",
        idle_note="unused this long: log in again" if long else "a day without use: log in again",
        absolute=f"{90 if mobile else 30} * 86400" if long else "7 * 86400",
        absolute_note="the remember-me limit; still revocable" if long else "at most a week",
        delivery=delivery,
        lookup_note=" (revocation is pushed, not looked up)" if needs["instant_revocation"] else "",
        logout_note=" and deny the current access token" if needs["instant_revocation"] else "",
    )


def jwks_config(needs: Mapping[str, bool]) -> str:
    verifier_revocation = (
        '\n    revocation="replicated",\n    store=store,  # the same store: revocations reach '
        "this service too"
        if needs["instant_revocation"]
        else ""
    )
    return _MICRO.format(verifier_revocation=verifier_revocation)


def revocation_note() -> str:
    return _REVOKE_NOTE
