"""How a route declares the scopes it needs: a list of names, in either adapter.

One string is an ``Iterable[str]`` too, of its characters: ``login_required(scopes="admin")``
required the scopes ``a``, ``d``, ``m``, ``i``, ``n`` and so refused every user, without a word;
``require_scopes(["admin"])`` failed on every request. Both are refused where the route is
declared, when the app starts.
"""

from __future__ import annotations

from typing import Any

import pytest

from gatepass.errors import ConfigurationError
from gatepass.web.fastapi import require_scopes
from gatepass.web.flask import login_required

#: what is not a list of names: one string, a name with a space, an empty name, not a string
NOT_NAMES: list[Any] = ["admin", ("admin read",), ("",), (None,)]


@pytest.mark.parametrize("scopes", NOT_NAMES)
def test_flask_refuses_scopes_that_are_not_a_list_of_names(scopes: Any) -> None:
    with pytest.raises(ConfigurationError):
        login_required(scopes=scopes)


@pytest.mark.parametrize("scopes", [(["admin"],), *NOT_NAMES[1:]])
def test_fastapi_refuses_scopes_that_are_not_names(scopes: tuple[Any, ...]) -> None:
    with pytest.raises(ConfigurationError):
        require_scopes(*scopes)


def test_a_list_of_names_is_fine() -> None:
    assert callable(login_required(scopes=["admin", "read"]))
    assert callable(require_scopes("admin", "read"))
