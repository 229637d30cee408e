"""Fetching one JWKS document with the standard library: https only, no redirects, no proxies
from the environment, a timeout for the whole body and a size limit."""

from __future__ import annotations

import http.client
import ssl
import time
import urllib.error
import urllib.request
from typing import IO, Any, NoReturn

from gatepass.errors import GatepassError, JWKSFetchError
from gatepass.strategies._jwks_policy import DEFAULT_MAX_BYTES, check_jwks_url
from gatepass.tokens.keys import KeySet


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(  # noqa: PLR0917 - the urllib signature
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> NoReturn:
        raise JWKSFetchError(f"JWKS endpoint answered with a redirect ({code}); refused")


def _opener() -> urllib.request.OpenerDirector:
    """An opener with exactly http(s), no proxies from the environment and no redirects."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler({}),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(context=ssl.create_default_context()),
        _RefuseRedirects(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def _read_bounded(response: Any, max_bytes: int, deadline: float) -> bytes:
    """Read at most ``max_bytes + 1`` bytes, and give up at ``deadline``.

    The socket timeout bounds each read, not the whole body: a server trickling one byte every
    few seconds must not hold the fetch (and the lock every other request waits on) for minutes.
    """
    read = getattr(response, "read1", response.read)  # read1: whatever has arrived, no waiting
    chunks: list[bytes] = []
    size = 0
    while size <= max_bytes:
        chunk = read(min(65536, max_bytes + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if time.monotonic() > deadline:
            raise TimeoutError
    return b"".join(chunks)


def fetch_jwks(url: str, *, timeout: float, max_bytes: int = DEFAULT_MAX_BYTES) -> KeySet:
    """Fetch and parse one JWKS document; every failure is a :class:`JWKSFetchError`."""
    check_jwks_url(url)
    request = urllib.request.Request(  # noqa: S310 - scheme checked by check_jwks_url
        url, headers={"Accept": "application/jwk-set+json, application/json"}
    )
    deadline = time.monotonic() + timeout
    try:
        with _opener().open(request, timeout=timeout) as response:
            body = _read_bounded(response, max_bytes, deadline)
    except JWKSFetchError:
        raise
    except urllib.error.HTTPError as exc:
        raise JWKSFetchError(f"JWKS endpoint answered HTTP {exc.code}") from None
    except TimeoutError:
        raise JWKSFetchError(f"JWKS fetch timed out after {timeout} s") from None
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise JWKSFetchError(f"JWKS fetch failed: {type(reason).__name__}") from None
    if len(body) > max_bytes:
        raise JWKSFetchError(f"JWKS document larger than {max_bytes} bytes")
    try:
        keys = KeySet.from_jwks(body.decode("utf-8"))
    except (GatepassError, UnicodeDecodeError, ValueError, TypeError, KeyError) as exc:
        raise JWKSFetchError(f"malformed JWKS document: {type(exc).__name__}") from None
    if len(keys) == 0:
        raise JWKSFetchError("JWKS document holds no usable key")
    if any(key.is_private for key in keys):
        # A JWKS URL is public: an HMAC secret (kty "oct") or a private key served there is
        # known to anyone who can fetch it, so trusting it would let anyone forge tokens.
        raise JWKSFetchError("JWKS document publishes secret key material; refused")
    return keys
