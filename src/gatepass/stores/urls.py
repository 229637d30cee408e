"""Store URLs: every malformed URL or option is a ``ConfigurationError`` naming what is wrong.

Checked here, before any driver sees the URL (drivers answer with bare ``ValueError`` /
``TypeError``, or silently misread: redis-py takes ``/abc`` as database 0). Also splits gatepass's
own options from those passed on to redis-py or libpq.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlencode, urlsplit

from gatepass.errors import ConfigurationError, quote_prefix
from gatepass.stores.limits import MAX_WAIT_SECONDS, check_seconds

_MEMORY_OPTIONS = ("prefix",)
_SQLITE_OPTIONS = ("prefix", "synchronous", "busy_timeout")
_REDIS_CHECKED = (
    "prefix",
    "cluster",
    "pool_timeout",
    "socket_timeout",
    "socket_connect_timeout",
    "max_connections",
    "db",
)
_POSTGRES_CHECKED = (
    "prefix",
    "schema",
    "pool_min_size",
    "pool_max_size",
    "pool_timeout",
    "timeout",
)
#: What a ``redis://`` / ``rediss://`` URL path may be: empty, ``/`` or ``/<database number>``
#: (redis-py silently uses database 0 for any other path, e.g. a typo).
_REDIS_DB_PATH = re.compile(r"/?(?:[0-9]+/?)?")
#: ``user:password@`` in a URL a driver quotes back in its message.
_CREDENTIALS = re.compile(r"//[^/@\s]*@")


# --- URL and option checks: every malformed URL is a ConfigurationError naming what is wrong -----


def _split(url: str, backend: str, *, port: bool = False) -> SplitResult:
    """``urlsplit``, and with ``port`` its port parsed (a non-numeric or out-of-range port
    raises on access). Only for Redis: ``sqlite://:memory:`` has no port, and a libpq URL may
    list several hosts (``h1:5432,h2:5433``), so PostgreSQL ports are checked as libpq reads
    them."""
    try:
        parts = urlsplit(url)
        if port:
            parts.port  # noqa: B018
    except ValueError as exc:
        raise ConfigurationError(f"malformed {backend} URL: {exc}") from None
    return parts


def _options(parts: SplitResult, checked: tuple[str, ...]) -> dict[str, str]:
    """The query options (the last of a repeated one, as the backends read them). An option
    that gatepass checks may appear once only: redis-py reads the first of a repeated option,
    gatepass the last, so the value checked would not be the value used."""
    options: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in options and key in checked:
            raise ConfigurationError(f"store URL option {quote_prefix(key)} is given twice")
        options[key] = value
    return options


def _only(options: dict[str, str], known: tuple[str, ...], backend: str) -> None:
    """Refuse an option the backend does not read: a typo (``?synchronus=full``) must not
    silently leave the default in place. Redis and PostgreSQL pass unknown options on to their
    driver instead, which checks them."""
    for key in options:
        if key not in known:
            raise ConfigurationError(
                f"unknown {backend} URL option {quote_prefix(key)}: use {', '.join(known)}"
            )


def _seconds(options: dict[str, str], name: str, backend: str, *, allow_zero: bool) -> None:
    """The option ``name``, if present, is a finite number of seconds within the limits."""
    value = options.get(name)
    if value is None:
        return
    try:
        check_seconds(float(value), name, allow_zero=allow_zero, maximum=MAX_WAIT_SECONDS)
    except (ValueError, ConfigurationError):
        top = f"{MAX_WAIT_SECONDS:.0f}"
        span = f"from 0 to {top}" if allow_zero else f"above 0 and at most {top}"
        raise ConfigurationError(
            f"{backend} URL option {name} must be a number of seconds {span}, "
            f"not {quote_prefix(value)}"
        ) from None


def _integer(options: dict[str, str], name: str, backend: str, *, minimum: int) -> int | None:
    """The option ``name``, if present, as an integer of at least ``minimum`` (ASCII digits)."""
    value = options.get(name)
    if value is None:
        return None
    # At most 18 digits: int() refuses very long digit strings (ValueError), and no pool size,
    # connection count or database number needs more.
    if not (value.isascii() and value.isdigit() and len(value) <= 18) or int(value) < minimum:
        raise ConfigurationError(
            f"{backend} URL option {name} must be an integer of at least {minimum}, "
            f"not {quote_prefix(value)}"
        )
    return int(value)


def memory_prefix(url: str) -> str:
    options = _options(_split(url, "memory"), _MEMORY_OPTIONS)
    _only(options, _MEMORY_OPTIONS, "memory")
    return options.get("prefix") or "gatepass:"  # an empty ?prefix= keeps the default


def sqlite_args(url: str) -> tuple[str, dict[str, Any]]:
    parts = _split(url, "sqlite")
    options = _options(parts, _SQLITE_OPTIONS)
    _only(options, _SQLITE_OPTIONS, "sqlite")
    if parts.netloc == ":memory:" or parts.path in {"/:memory:", ":memory:"}:
        path = ":memory:"
    elif parts.netloc:
        raise ConfigurationError(
            "sqlite URLs have three slashes: sqlite:///relative.db or sqlite:////absolute.db"
        )
    else:
        path = unquote(parts.path[1:]) if parts.path.startswith("/") else unquote(parts.path)
        if not path:
            raise ConfigurationError("sqlite URL without a path: use sqlite:///path/to.db")
        if "\x00" in path:
            raise ConfigurationError("a sqlite path must not contain NUL (%00)")
    kwargs: dict[str, Any] = {}
    if options.get("prefix"):  # an empty ?prefix= keeps the default
        kwargs["prefix"] = options["prefix"]
    if "synchronous" in options:
        kwargs["synchronous"] = options["synchronous"]  # checked by SQLiteStore
    if "busy_timeout" in options:
        _seconds(options, "busy_timeout", "sqlite", allow_zero=True)
        kwargs["busy_timeout"] = float(options["busy_timeout"])
    return path, kwargs


def check_redis_url(url: str) -> None:
    """What redis-py would refuse with a bare ``ValueError`` (or accept, then fail on with one
    on first use, or silently misread), refused here first."""
    parts = _split(url, "redis", port=True)
    scheme = parts.scheme.lower().removesuffix("+cluster")
    if scheme in {"redis", "rediss"} and not _REDIS_DB_PATH.fullmatch(parts.path):
        raise ConfigurationError(
            "the path of a redis URL is the database number (redis://host:6379/0), "
            f"not {quote_prefix(parts.path)}"
        )
    options = _options(parts, _REDIS_CHECKED)
    if options.get("cluster", "0").lower() not in {"1", "true", "yes", "0", "false", "no"}:
        # Refused rather than read as "not a cluster", which ?cluster=on would silently mean.
        raise ConfigurationError(
            "redis URL option cluster must be 1, true, yes, 0, false or no, "
            f"not {quote_prefix(options['cluster'])}"
        )
    _seconds(options, "pool_timeout", "redis", allow_zero=True)
    _seconds(options, "socket_timeout", "redis", allow_zero=False)
    _seconds(options, "socket_connect_timeout", "redis", allow_zero=False)
    _integer(options, "max_connections", "redis", minimum=1)
    _integer(options, "db", "redis", minimum=0)


def check_postgres_url(url: str) -> None:
    """gatepass's pool options, then the libpq URL itself (parsed offline by libpq when psycopg
    is installed; without it, opening the store raises ``MissingDependency``)."""
    options = _options(_split(url, "postgresql"), _POSTGRES_CHECKED)
    low = _integer(options, "pool_min_size", "postgresql", minimum=0)
    high = _integer(options, "pool_max_size", "postgresql", minimum=1)
    if (1 if low is None else low) > (10 if high is None else high):
        raise ConfigurationError("postgresql URL option pool_min_size exceeds pool_max_size")
    _seconds(options, "pool_timeout", "postgresql", allow_zero=True)
    _seconds(options, "timeout", "postgresql", allow_zero=False)
    try:
        import psycopg  # noqa: PLC0415 - optional dependency
        from psycopg.conninfo import conninfo_to_dict  # noqa: PLC0415
    except ImportError:
        return
    conninfo = postgres_parts(url)[0]
    try:
        params = conninfo_to_dict(conninfo)
    except UnicodeDecodeError:
        # libpq hands back each value as bytes, which psycopg decodes as UTF-8: a percent-escape
        # such as %ff (in the database name, a user, a password) was this bare error.
        raise ConfigurationError(
            "malformed postgresql URL: a percent-escape (such as %ff) is not UTF-8 text"
        ) from None
    except psycopg.Error as exc:
        # libpq quotes the whole URI after " in URI:" and the offending part in double quotes
        # (a malformed password is one): never echo either.
        reason = str(exc).splitlines()[0].split(" in URI:")[0].replace(conninfo, "<url>")
        netloc = url.split("://", 1)[-1].split("/", 1)[0]
        userinfo = netloc.rpartition("@")[0]
        if ":" in userinfo:
            password = userinfo.split(":", 1)[1]
            for text in {password, unquote(password)} - {""}:
                reason = reason.replace(text, "***")
        raise ConfigurationError(f"malformed postgresql URL: {reason}") from None
    for port in str(params.get("port") or "").split(","):
        if port and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
            raise ConfigurationError(
                f"postgresql URL port must be a number from 1 to 65535, not {quote_prefix(port)}"
            )


def url_with_query(parts: SplitResult, query: str) -> str:
    """``parts`` as a URL again with ``query`` instead of its own: always with ``//``.

    ``urlunsplit`` drops the ``//`` of a URL with no host (``postgresql:///db?host=...``,
    ``unix:///tmp/redis.sock``), which the drivers then refuse or misread.
    """
    url = f"{parts.scheme}://{parts.netloc}{parts.path}"
    if query:
        url += f"?{query}"
    if parts.fragment:
        url += f"#{parts.fragment}"
    return url


_REDIS_OURS = ("prefix", "cluster", "pool_timeout")


def redis_parts(url: str) -> tuple[str, str, bool, float, float]:
    """``(driver_url, prefix, cluster, pool_timeout, socket_timeout)``: gatepass's own options
    taken out of the URL, the drivers' socket timeouts defaulted (5 s; connect 2 s)."""
    parts = urlsplit(url)
    scheme = parts.scheme
    cluster = False
    if scheme.endswith("+cluster"):
        cluster = True
        scheme = scheme.removesuffix("+cluster")
    if scheme not in {"redis", "rediss", "unix"}:
        raise ConfigurationError(f"not a redis URL scheme: {parts.scheme!r}")
    query = parse_qsl(parts.query, keep_blank_values=True)
    options = {k: v for k, v in query if k in _REDIS_OURS}
    rest = [(k, v) for k, v in query if k not in _REDIS_OURS]
    if options.get("cluster", "").lower() in {"1", "true", "yes"}:
        cluster = True
    prefix = options.get("prefix", "gatepass:")
    if "{" in prefix or "}" in prefix:
        raise ConfigurationError("a redis key prefix must not contain '{' or '}' (hash tags)")
    names = dict(rest)
    if "socket_timeout" not in names:
        rest.append(("socket_timeout", "5"))
    if "socket_connect_timeout" not in names:
        rest.append(("socket_connect_timeout", "2"))
    socket_timeout = float(dict(rest)["socket_timeout"])
    pool_timeout = float(options.get("pool_timeout", "5"))
    driver_url = url_with_query(parts._replace(scheme=scheme), urlencode(rest))
    return driver_url, prefix, cluster, pool_timeout, socket_timeout


_POSTGRES_OURS = _POSTGRES_CHECKED


def postgres_parts(url: str) -> tuple[str, dict[str, str]]:
    """``(conninfo, gatepass_options)``: the libpq URL without gatepass's own options."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgresql", "postgres"}:
        raise ConfigurationError(f"not a postgresql URL scheme: {parts.scheme!r}")
    query = parse_qsl(parts.query, keep_blank_values=True)
    options = {k: v for k, v in query if k in _POSTGRES_OURS}
    rest = [(k, v) for k, v in query if k not in _POSTGRES_OURS]
    # quote, not urlencode's default quote_plus: libpq reads "+" as a plus sign, not a space
    # (``?options=-c%20work_mem%3D8MB`` must reach the server as "-c work_mem=8MB").
    conninfo = url_with_query(parts._replace(fragment=""), urlencode(rest, quote_via=quote))
    return conninfo, options


def postgres_connect_options(conninfo: str, timeout: float) -> dict[str, Any]:
    """libpq parameters that bound connecting and every statement: ``connect_timeout`` (unless
    the URL sets one) and ``statement_timeout`` added to the URL's own ``options``."""
    from psycopg.conninfo import conninfo_to_dict  # noqa: PLC0415

    params = conninfo_to_dict(conninfo)
    extra: dict[str, Any] = {}
    if params.get("connect_timeout") is None:
        extra["connect_timeout"] = max(2, math.ceil(timeout))
    options = str(params.get("options") or "")
    if "statement_timeout" not in options:
        extra["options"] = f"{options} -c statement_timeout={math.ceil(timeout * 1000)}".strip()
    return extra
