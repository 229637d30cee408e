"""The ``htu`` comparison of DPoP (RFC 9449 4.3): one strict normal form for HTTP target URIs.

A proof names the URL it was made for; the server compares it with the URL it received. Both go
through :func:`normalize_htu`, which applies only the RFC 3986 normalisations that cannot change
which resource a server routes to:

* scheme and host are case-insensitive (lowercased); only ``http`` and ``https`` exist here;
* the default port goes (``:443`` for https, ``:80`` for http, and an empty ``:``);
* an empty path is ``/``;
* percent-encoded unreserved characters are decoded (``%7E`` is ``~``) and every other
  percent-encoding gets upper-case hex digits (``%2f`` is ``%2F``, never ``/``);
* query and fragment are dropped (the proof covers neither).

What it refuses instead of normalising, because each one is a way to make two parsers disagree:

* dot segments (``/a/../b``, ``/a/./b`` and their ``%2E`` spellings): servers and routers differ
  on whether and when they remove them, so a proof for ``/b`` could pass at ``/a/../b`` where a
  router serves ``/a/{path}``. A browser never sends them (its URL parser removes them first);
* user info (``https://api.example@evil.example/``), percent-encoded or non-ASCII hosts, IPv6
  zone ids and anything but unreserved characters in a host name;
* characters outside RFC 3986 (spaces, backslashes, controls, raw non-ASCII): lenient URL parsers
  read ``\\`` as ``/`` or drop whitespace, and two readings of one URL is the attack;
* malformed percent-encodings and ports that are not 1 to 65535.

No I/O, no ``urllib.parse`` (it strips control characters and accepts backslashes silently).
"""

from __future__ import annotations

import re

_DEFAULT_PORT = {"http": "80", "https": "443"}

# Every character RFC 3986 allows in a URI: unreserved, reserved (gen-delims, sub-delims) and '%'.
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
_SPLIT = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://([^/?#]*)([^?#]*)")
_AUTHORITY = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~]+)(?::([0-9]{0,5}))?")
_PERCENT = re.compile(r"%(..)?")
_HEX = frozenset("0123456789abcdefABCDEF")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


class HtuError(ValueError):
    """The URL cannot be compared safely; the message says why (no input is quoted)."""


def _percent(match: re.Match[str]) -> str:
    digits = match.group(1)
    if digits is None or digits[0] not in _HEX or digits[1] not in _HEX:
        raise HtuError("has a malformed percent-encoding")
    char = chr(int(digits, 16))
    return char if char in _UNRESERVED else "%" + digits.upper()


def is_authority(text: str) -> bool:
    """Whether ``text`` is a ``host[:port]`` this module accepts (a ``Host`` header, say):
    nothing that would end the authority early (``/``, ``?``, ``#``, ``@``) or hide in it."""
    return _AUTHORITY.fullmatch(text) is not None


def without_query(url: str) -> str:
    """``url`` without its query and fragment (the proof covers neither)."""
    return url.split("?", 1)[0].split("#", 1)[0]


def normalize_htu(url: str) -> str:
    """The normal form of an http(s) URL for the DPoP ``htu`` comparison, or :class:`HtuError`."""
    if not _URI_CHARS.fullmatch(url):
        raise HtuError("has characters a URI cannot contain (spaces, backslashes, non-ASCII)")
    parts = _SPLIT.match(url)
    if parts is None:
        raise HtuError("is not an absolute http(s) URL")
    scheme, authority, path = parts.group(1).lower(), parts.group(2), parts.group(3)
    default_port = _DEFAULT_PORT.get(scheme)
    if default_port is None:
        raise HtuError("must use the http or https scheme")
    host_port = _AUTHORITY.fullmatch(authority)
    if host_port is None:
        raise HtuError("has no host, user info, or a host that is not a plain name or IP literal")
    host, port = host_port.group(1).lower(), host_port.group(2)
    if port:
        number = int(port)
        if not 0 < number <= 65535:
            raise HtuError("has a port outside 1-65535")
        port = str(number)
    if port and port != default_port:
        host = f"{host}:{port}"
    if "%" in path:
        path = _PERCENT.sub(_percent, path)
    if "[" in path or "]" in path:
        raise HtuError("has brackets in its path")
    if "." in path and any(segment in {".", ".."} for segment in path.split("/")):
        raise HtuError("has dot segments ('.' or '..'), which servers resolve differently")
    return f"{scheme}://{host}{path or '/'}"
