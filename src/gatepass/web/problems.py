"""Every refusal the web layer sends, as an RFC 9457 problem document.

Each problem says what failed (``code`` is the same stable code the library's exceptions carry)
and never echoes a credential: the detail texts below are fixed or built from gatepass's own
error messages, which quote at most a short prefix of untrusted input and never a token.

Status codes: 401 when no acceptable credential came (with ``WWW-Authenticate``, as RFC 9110
requires; for bearer tokens the RFC 6750 ``error`` attribute, and RFC 9470
``insufficient_user_authentication`` when a recent login is required), 403 for a CSRF refusal or
missing scopes, 503 with ``Retry-After`` when the store cannot be reached: an outage never logs
anybody out and never clears a cookie.
"""

from __future__ import annotations

from gatepass.web.http import Response, json_response

__all__ = ["Problem", "problem_response"]

_REALM = 'Bearer realm="gatepass"'


class Problem(Exception):
    """A refusal: raised inside the web layer and its framework adapters, turned into a
    response by :func:`problem_response`. (A plain exception class rather than a frozen
    dataclass: frameworks assign ``__traceback__`` to the exceptions they handle.)"""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        code: str,
        *,
        www_authenticate: str | None = None,
        retry_after: int | None = None,
        allow: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
        error: str | None = None,
    ) -> None:
        super().__init__(status, code, detail)
        self.headers = headers
        self.error = error
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.code = code
        self.www_authenticate = www_authenticate
        self.retry_after = retry_after
        self.allow = allow

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.detail}"

    # --- the catalogue ----------------------------------------------------------------------

    @classmethod
    def unauthenticated(cls) -> Problem:
        return cls(
            401,
            "unauthenticated",
            "Authentication required",
            "this resource needs a logged-in user",
            "ERR_UNAUTHENTICATED",
            www_authenticate=_REALM,
        )

    @classmethod
    def invalid_token(cls, code: str, detail: str) -> Problem:
        # A header value: printable ASCII only, no quote or backslash to break out of it.
        safe = "".join(ch for ch in detail if " " <= ch < "\x7f" and ch not in '"\\')[:120]
        return cls(
            401,
            "invalid-token",
            "Invalid bearer token",
            detail,
            code,
            www_authenticate=f'{_REALM}, error="invalid_token", error_description="{safe}"',
        )

    @classmethod
    def dpop(
        cls,
        status: int,
        error: str,
        *,
        code: str,
        detail: str,
        challenge: str,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> Problem:
        """A DPoP refusal (RFC 9449 7.1, 8): ``error`` is ``invalid_dpop_proof``,
        ``use_dpop_nonce`` or ``invalid_token``, also in the body for clients of the token
        endpoints (login, refresh: 400, as OAuth's token endpoint answers)."""
        return cls(
            status,
            error.replace("_", "-"),
            "DPoP proof refused" if error != "invalid_token" else "Invalid DPoP-bound token",
            detail,
            code,
            www_authenticate=challenge,
            headers=headers,
            error=error,
        )

    @classmethod
    def bad_credentials(cls) -> Problem:
        return cls(
            401,
            "invalid-credentials",
            "Login failed",
            "unknown user name or wrong password",
            "ERR_INVALID_CREDENTIALS",
            www_authenticate=_REALM,
        )

    @classmethod
    def insufficient_scope(cls, scopes: tuple[str, ...]) -> Problem:
        wanted = " ".join(scopes)
        return cls(
            403,
            "insufficient-scope",
            "Insufficient scope",
            f"this resource needs the scopes: {wanted}",
            "ERR_INSUFFICIENT_SCOPE",
            www_authenticate=f'{_REALM}, error="insufficient_scope", scope="{wanted}"',
        )

    @classmethod
    def reauthenticate(cls, max_age: int) -> Problem:
        return cls(
            401,
            "reauthentication-required",
            "Recent login required",
            f"log in again: this action needs a login within the last {max_age} s",
            "ERR_REAUTHENTICATION_REQUIRED",
            www_authenticate=f'{_REALM}, error="insufficient_user_authentication", '
            f'error_description="a more recent login is required", max_age={max_age}',
        )

    @classmethod
    def csrf(cls, reason: str) -> Problem:
        return cls(403, "csrf", "Cross-site request refused", reason, "ERR_CSRF")

    @classmethod
    def unavailable(cls, retry_after: int, code: str = "ERR_STORE_UNAVAILABLE") -> Problem:
        """503: the store cannot be reached or, ``code`` ``ERR_JWKS_FETCH``, the issuer's
        public keys cannot be fetched; either way no credential can be judged."""
        if code == "ERR_JWKS_FETCH":
            slug, what = "keys-unavailable", "the token issuer's public keys cannot be fetched"
        else:
            slug, what = "store-unavailable", "the session store cannot be reached"
        return cls(
            503,
            slug,
            "Login state unavailable",
            f"{what}; try again shortly (you are not logged out)",
            code,
            retry_after=retry_after,
        )

    @classmethod
    def bad_request(cls, detail: str) -> Problem:
        return cls(400, "bad-request", "Bad request", detail, "ERR_BAD_REQUEST")

    @classmethod
    def too_large(cls) -> Problem:
        return cls(
            413,
            "too-large",
            "Request body too large",
            "the body exceeds what this endpoint accepts",
            "ERR_TOO_LARGE",
        )

    @classmethod
    def not_found(cls, detail: str) -> Problem:
        return cls(404, "not-found", "Not found", detail, "ERR_NOT_FOUND")

    @classmethod
    def method_not_allowed(cls, method: str) -> Problem:
        """``method`` is the one the endpoint accepts; a GET endpoint answers HEAD too."""
        allow = "GET, HEAD" if method == "GET" else method
        return cls(
            405,
            "method-not-allowed",
            "Method not allowed",
            f"use {method}",
            "ERR_METHOD_NOT_ALLOWED",
            allow=allow,
        )


def problem_response(problem: Problem) -> Response:
    """The response for ``problem``: ``application/problem+json``, never cached."""
    body = {
        "type": f"urn:gatepass:problem:{problem.slug}",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "code": problem.code,
    }
    if problem.error is not None:
        body["error"] = problem.error
    headers: list[tuple[str, str]] = list(problem.headers)
    if problem.www_authenticate is not None:
        headers.append(("www-authenticate", problem.www_authenticate))
    if problem.retry_after is not None:
        headers.append(("retry-after", str(problem.retry_after)))
    if problem.allow is not None:
        headers.append(("allow", problem.allow))
    response = json_response(problem.status, body, headers)
    response.headers[0] = ("content-type", "application/problem+json")
    return response
