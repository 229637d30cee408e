"""The columns of the table that are properties of a design rather than measurements: where
the state lives, what a stolen credential is good for, XSS and CSRF exposure with the defence
gatepass applies, the infrastructure needed and cross-domain use.

They are written from the configuration actually measured (lifetimes, cookie names), so the
text and the numbers beside it describe the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

from gatepass.compare.headers import COOKIES
from gatepass.compare.settings import Settings, duration


@dataclass(frozen=True)
class Facts:
    state: str
    stolen: str
    xss: str
    csrf: str
    infrastructure: str
    cross_domain: str


_SESSION_INFRA = {
    "memory": "nothing beyond the process: one process only, sessions lost on restart",
    "SQLite": "a SQLite file on local disk, shared by the processes of one machine",
    "Redis": "a Redis server (or Cluster) that every app server reaches",
    "PostgreSQL": "a PostgreSQL database that every app server reaches",
}
_BEARER_XSS = (
    "a script injected into the page can read a token kept where script can reach it and send "
    "it anywhere (localStorage: one line); defence: keep it in page memory only, never in "
    "localStorage, and keep its lifetime short"
)
_BEARER_CSRF = (
    "none: browsers never add an Authorization header by themselves, so a forged cross-site "
    "request carries no credential; bearer requests need no CSRF check"
)


def session(store: str, s: Settings) -> Facts:
    return Facts(
        state="server: one record per login in the store, looked up on every request",
        stolen=(
            f"the session until it is revoked, {duration(s.idle)} unused or "
            f"{duration(s.absolute)} after login; from any machine (a cookie is a bearer "
            "credential); a stolen store or backup holds only SHA-256 hashes, no usable cookie"
        ),
        xss=(
            f"script cannot read the HttpOnly {COOKIES.session} cookie, but can send requests "
            "as the user while the page is open; defence: HttpOnly and the __Host- prefix "
            "(no subdomain can set or overwrite it)"
        ),
        csrf=(
            "exposed: the browser attaches the cookie to cross-site requests by itself; "
            "defence: SameSite=Lax, plus Origin / Sec-Fetch-Site checks with a token fallback "
            "on unsafe methods"
        ),
        infrastructure=_SESSION_INFRA[store],
        cross_domain=(
            f"same site only ({COOKIES.session}: Path=/, no Domain, SameSite=Lax); another "
            "site needs SameSite=None; Secure plus CORS with credentials, which reopens CSRF"
        ),
    )


def stateless(alg: str, s: Settings) -> Facts:
    hmac = alg.startswith("HS")
    return Facts(
        state="client: the signed token; server: only the key",
        stolen=(
            f"everything the token allows until exp ({duration(s.ttl)}), even after logout or "
            "a password change; from any machine, at every service that trusts the key"
        ),
        xss=_BEARER_XSS,
        csrf=_BEARER_CSRF,
        infrastructure=(
            "one shared secret in the issuer and in every verifier, so a secret stolen from any "
            "verifier mints tokens for anyone"
            if hmac
            else "a private key at the issuer; its public key (a JWKS) at every verifier"
        ),
        cross_domain=(
            "easy: any origin sends the Authorization header (CORS must allow it); other "
            + (
                "services verify with the shared secret"
                if hmac
                else "services verify with the public key, without calling back"
            )
        ),
    )


def denylist(store: str, s: Settings) -> Facts:
    return Facts(
        state="client: the token; server: a denylist in the store, read on every request",
        stolen=(
            f"until revoked (the next request refuses it) or exp ({duration(s.ttl)}); "
            "from any machine"
        ),
        xss=_BEARER_XSS,
        csrf=_BEARER_CSRF,
        infrastructure="keys, and the store, queried by every verifier on every request",
        cross_domain=(
            "easy for the client (Authorization header); every verifier must reach the store"
        ),
    )


def replicated(store: str, s: Settings) -> Facts:
    return Facts(
        state=(
            "client: the token; server: a denylist in the store, copied into every process's memory"
        ),
        stolen=(
            "until revoked (refused once the change reaches each process: see the delay) or "
            f"exp ({duration(s.ttl)}); from any machine"
        ),
        xss=_BEARER_XSS,
        csrf=_BEARER_CSRF,
        infrastructure=(
            "keys, and the store's change feed (Redis pub/sub, PostgreSQL LISTEN/NOTIFY, SQLite "
            "polling) followed by a listener in every process; verification fails closed while "
            "the feed is broken"
        ),
        cross_domain=(
            "easy for the client (Authorization header); every verifier must follow the "
            "store's change feed"
        ),
    )


def hybrid(store: str, s: Settings) -> Facts:
    return Facts(
        state=(
            f"client: a {duration(s.ttl)} access JWT (page memory) and the refresh cookie; "
            "server: refresh-token families in the store"
        ),
        stolen=(
            f"access token: until exp ({duration(s.ttl)}), from any machine; refresh token: "
            f"new access tokens until the family is revoked, {duration(s.refresh_idle)} unused "
            f"or {duration(s.refresh_absolute)} after login, but it is single use: once thief "
            "and user have both used it, the reuse is detected and the whole family dies"
        ),
        xss=(
            "injected script can use the access token in page memory until exp; the refresh "
            f"cookie is HttpOnly and never readable; defence: memory-only access token, "
            f"{duration(s.ttl)} lifetime, refresh rotation with reuse detection"
        ),
        csrf=(
            "API requests: none (bearer); the refresh endpoint: its cookie is SameSite=Strict "
            f"and sent only to {COOKIES.refresh_path}, plus the Origin check"
        ),
        infrastructure="keys, the store for the refresh-token families, and a refresh endpoint",
        cross_domain=(
            "API calls as for JWTs (any origin, Authorization header); refreshing stays "
            f"first-party to the auth server's origin ({COOKIES.refresh} cookie)"
        ),
    )


def hybrid_dpop(store: str, s: Settings) -> Facts:
    plain = hybrid(store, s)
    return Facts(
        state=(
            f"client: a {duration(s.ttl)} access JWT and the refresh cookie, both bound to a "
            "key the browser cannot export; server: refresh-token families and the proofs "
            "seen (a replay cache) in the store"
        ),
        stolen=(
            "nothing, away from the key: a copied access token or refresh cookie is refused "
            "from any other client, as a bearer token and with a proof of another key (the row "
            "shows each refusal); on the device itself, as for the hybrid"
        ),
        xss=(
            "injected script can use the login through the page while it runs (the browser "
            "signs proofs for it), but what it copies is worthless elsewhere: the private key "
            "is non-extractable (WebCrypto, kept in IndexedDB); defence: DPoP binding, the "
            "hybrid's short lifetime and rotation"
        ),
        csrf=plain.csrf,
        infrastructure=(
            "the hybrid's, plus a replay cache every server shares (one store write per "
            "request) and a client that signs a proof per request (gatepass.js)"
        ),
        cross_domain=(
            "as for the hybrid; the API must allow the DPoP request header and expose "
            "DPoP-Nonce (CORS)"
        ),
    )


_BY_DESIGN = {
    "session": session,
    "jwt": stateless,
    "denylist": denylist,
    "replicated": replicated,
    "hybrid": hybrid,
    "hybrid-dpop": hybrid_dpop,
}


def for_design(design: str, variant: str, s: Settings) -> Facts:
    """The facts of ``design`` (a key of :data:`gatepass.compare.rows.DESIGNS`) on ``variant``."""
    return _BY_DESIGN[design](variant, s)
