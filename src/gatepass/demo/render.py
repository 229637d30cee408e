"""A tiny template engine: ``{{ name }}`` placeholders in HTML files, every value escaped.

Why not Jinja2: the demo renders a handful of small pages, and a dependency of its own would be
one more thing to install for ``make demo``. What makes this safe is that escaping is the
default: a value is inserted as text unless it is :class:`Markup`, which only this module and
:func:`render` produce (a rendered template, or :func:`join` of rendered parts). A user name,
a device description or a query parameter can therefore never become HTML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources

__all__ = ["Markup", "join", "render"]

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


class Markup(str):
    """HTML that is already safe to insert as it is."""

    __slots__ = ()


def _escape(value: object) -> str:
    if isinstance(value, Markup):
        return value
    return html.escape(str(value), quote=True)


@cache
def _template(name: str) -> str:
    return resources.files("gatepass.demo").joinpath("templates", name).read_text("utf-8")


def render(template: str, /, **values: object) -> Markup:
    """Fill ``templates/<template>``; a placeholder without a value is a ``KeyError`` (a bug)."""

    def fill(match: re.Match[str]) -> str:
        return _escape(values[match.group(1)])

    return Markup(_PLACEHOLDER.sub(fill, _template(template)))


def join(parts: Iterable[Markup]) -> Markup:
    """Rendered fragments one after the other (a list of rows)."""
    return Markup("".join(_escape(part) for part in parts))
