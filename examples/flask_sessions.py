"""Flask pages protected by gatepass session cookies, served by waitress (a real WSGI server).

    python examples/flask_sessions.py --port 8000 [--store redis://127.0.0.1:6379/0]

Then open http://127.0.0.1:8000/ and log in as alice / correct horse battery staple.
"""

from __future__ import annotations

import secrets
from typing import Any

import waitress
from flask import Flask

from demo_user import check_password, options, session_page
from gatepass import Sessions, open_store
from gatepass.web import Gatepass
from gatepass.web.flask import (
    GatepassFlask,
    csrf_token,
    current_user,
    login_optional,
    login_required,
)


def build(store_url: str) -> Flask:
    store = open_store(store_url)  # WSGI: the blocking store and strategies
    store.setup()  # creates the tables once; idempotent
    gp = Gatepass(
        sessions=Sessions(store),
        check_password=check_password,
        secret=secrets.token_bytes(32),  # CSRF key: give every process of an app the same one
    )
    app = Flask(__name__)
    GatepassFlask(app, gp)  # the middleware, /auth/* and RFC 9457 refusals

    @app.get("/me")
    @login_required
    def me() -> dict[str, Any]:
        user = current_user
        return {"user_id": user.user_id, "design": user.design, "session_id": user.session_id}

    @app.get("/")
    @login_optional  # nobody logged in is fine; a store outage is a 503, not "nobody"
    def home() -> str:
        return session_page(current_user.user_id if current_user else None, csrf_token())

    return app


if __name__ == "__main__":
    args = options(__doc__)
    waitress.serve(build(args.store), host="127.0.0.1", port=args.port, threads=8)
