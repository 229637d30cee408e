"""The hybrid with DPoP (RFC 9449): the access token and the refresh family bound to a key.

What the row measures is what a server pays per request: the proof (an ES256 signature, its
claims, and one write to the store's shared replay cache, the store this row is about), then the
access token with that proof. Every proof is used once, as a client's would be, so they are made
ahead of the timed rounds (signing is the client's cost, not the server's).

And what DPoP is for, performed rather than asserted: the access token and the refresh token,
copied out of the client, are presented from another client that lacks the key, as a bearer
token and with a proof of its own key, and each attempt's refusal is recorded in the row
(``copied``); the client with the key keeps working.
"""

from __future__ import annotations

from collections.abc import Iterator

from gatepass import Key, RefreshTokens
from gatepass.compare import headers
from gatepass.compare.designs import Context, attempt, new_user, refresh_revocation
from gatepass.compare.rows import Row
from gatepass.compare.targets import Target
from gatepass.strategies.dpop import StoreReplayCache
from gatepass.tokens.dpop import DPoPProof, DPoPVerifier, create_proof

API_URL = "https://api.compare.local/orders"
REFRESH_URL = "https://auth.compare.local/auth/refresh"
_POOL = 4096  # proofs made at a time: more than the timed rounds of a default run use


def _proofs(key: Key, method: str, url: str, token: str | None) -> Iterator[str]:
    """Fresh proofs, made in batches so that making them stays out of (almost) every round."""
    while True:
        yield from [
            create_proof(key, method=method, url=url, access_token=token) for _ in range(_POOL)
        ]


def hybrid_dpop_row(row: Row, target: Target, ctx: Context) -> None:
    s = ctx.settings
    client, thief = Key.generate("ES256"), Key.generate("ES256")
    jkt = client.thumbprint()
    access, verifier = ctx.access(ctx.key), ctx.access(ctx.key.public())
    refresh = RefreshTokens(target.store, access, secret=ctx.refresh_secret)
    proofs = DPoPVerifier(replay=StoreReplayCache(target.store), algorithms=("ES256",))
    refresh_token, access_token = refresh.start(new_user(), jkt=jkt)

    def checked(proof: str, url: str = API_URL, token: str | None = None) -> DPoPProof:
        method = "GET" if url == API_URL else "POST"
        return proofs.verify(proof, method=method, url=url, access_token=token)

    requests = _proofs(client, "GET", API_URL, access_token)
    row.header = headers.dpop(access_token, next(requests))
    row.refresh_header = headers.refresh_cookie(refresh_token)
    row.verify_what = (
        f"AccessTokens.verify with DPoPVerifier.verify: {s.token_alg} token, ES256 proof, "
        f"one {target.name} replay-cache write"
    )
    row.cost = ctx.time(
        lambda: verifier.verify(access_token, proof=checked(next(requests), token=access_token))
    )

    # The thief has copies of both tokens, not the key.
    own = create_proof(thief, method="GET", url=API_URL, access_token=access_token)
    own_refresh = create_proof(thief, method="POST", url=REFRESH_URL)
    row.copied = [
        attempt("access token as a bearer token", lambda: verifier.verify(access_token)),
        attempt(
            "access token with a proof of another key",
            lambda: verifier.verify(access_token, proof=checked(own, token=access_token)),
        ),
        attempt("refresh cookie without a proof", lambda: refresh.rotate(refresh_token)),
        attempt(
            "refresh cookie with a proof of another key",
            lambda: refresh.rotate(refresh_token, jkt=checked(own_refresh, REFRESH_URL).jkt),
        ),
    ]
    current = [refresh_token]
    rotations = _proofs(client, "POST", REFRESH_URL, None)

    def rotate() -> None:
        # The client with the key: unharmed by the attempts above.
        current[0], _ = refresh.rotate(current[0], jkt=checked(next(rotations), REFRESH_URL).jkt)

    row.rotate_cost = ctx.time(rotate)
    refresh_revocation(row, target, ctx, refresh=refresh, verifier=verifier, jkt=jkt)
