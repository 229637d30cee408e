"""Reading what a browser or a script submits to an endpoint: a form or a JSON object.

Both encodings carry the same fields, so a classic ``<form>`` and a ``fetch`` with JSON reach
the same code. Everything is bounded (the driver reads at most ``max_body`` bytes) and anything
malformed is a 400 that names the problem and never quotes a password.
"""

from __future__ import annotations

from urllib.parse import parse_qs, quote

from gatepass.errors import MalformedToken
from gatepass.tokens._json import loads_object
from gatepass.web.http import Request, Response
from gatepass.web.problems import Problem

__all__ = ["FORM", "is_form", "read_fields", "redirect", "safe_next"]

FORM = "application/x-www-form-urlencoded"
_JSON = "application/json"
#: What a path and query may hold as it is (RFC 3986 reserved and unreserved characters, and
#: ``%`` so that escapes already made stay as they are).
_URL_SAFE = "/?#[]@!$&'()*+,;=:%-._~"


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def is_form(request: Request) -> bool:
    return _media_type(request) == FORM


def read_fields(request: Request, body: bytes) -> dict[str, object]:
    """The submitted fields (strings, or JSON values), or :class:`Problem` 400."""
    media = _media_type(request)
    if media == FORM:
        # Strict UTF-8 in the raw body and in every %-escape: parse_qs would otherwise turn
        # invalid bytes into U+FFFD, and two different passwords into the same string.
        try:
            pairs = parse_qs(
                body.decode("utf-8"), keep_blank_values=True, max_num_fields=50, errors="strict"
            )
        except UnicodeDecodeError:
            raise Problem.bad_request("the form is not valid UTF-8") from None
        except ValueError:
            raise Problem.bad_request("the form has more than 50 fields") from None
        return {key: values[-1] for key, values in pairs.items()}
    if media == _JSON or (media == "" and body[:1] == b"{"):
        # The tokens' strict JSON: UTF-8 only (``json.loads`` would also take UTF-16 and -32,
        # which a proxy that inspects bodies reads as junk), no duplicate member names (a
        # proxy that rate-limits the first "username" while the last one logs in), no NaN.
        try:
            return loads_object(body, "the body")
        except MalformedToken as exc:
            raise Problem.bad_request(str(exc)) from None
    if not body:
        return {}
    raise Problem.bad_request(f"send {FORM} or {_JSON}")


def text_field(fields: dict[str, object], name: str, limit: int = 1024) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise Problem.bad_request(f"field {name!r} must be a string of at most {limit} characters")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate (JSON's "\udc80"): no UTF-8 form, so the app's password hasher
            # or user look-up would fail on it with a 500.
            raise Problem.bad_request(f"field {name!r} is not valid Unicode") from None
    return value


def flag_field(fields: dict[str, object], name: str) -> bool:
    value = fields.get(name)
    if value in (None, False, "", "0", "false", "off"):
        return False
    if value in (True, "1", "true", "on", "yes"):
        return True
    raise Problem.bad_request(f"field {name!r} must be true or false")


def safe_next(target: str | None, root: str = "") -> str:
    """A redirect target that stays on this site: a path, never ``//host`` or a scheme; else
    the app's root (``root``: where it is mounted).

    Login and logout forms name where to go next; accepting any URL there would make the
    endpoint an open redirect (a phishing link that starts on the real site). What is kept is
    percent-encoded beyond printable ASCII (``/café`` -> ``/caf%C3%A9``): a ``Location``
    header carries no other characters, and the servers refuse to send them.
    """
    if (
        not target
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or len(target) > 2000
        or any(ch < " " or ch in {"\x7f", "\\"} for ch in target)
    ):
        return f"{root}/"
    return quote(target, safe=_URL_SAFE)


def redirect(location: str, headers: list[tuple[str, str]]) -> Response:
    """303 See Other: the browser follows with GET, so a reload never re-posts the form."""
    return Response(303, [("location", location), ("cache-control", "no-store"), *headers], b"")
