"""The reference app: ``make demo`` (``python -m gatepass.demo``).

Three ways to be logged in, each a real client on the same accounts and store: classic
server-rendered pages on a session cookie (:mod:`~gatepass.demo.classic`), a single-page app on
the hybrid with ``gatepass.js`` (``static/spa.js``), and an API area for bearer tokens with a
stateless partner service beside it (:mod:`~gatepass.demo.api`, ``static/bearer.js``); "your
devices", "log out everywhere", an admin's "freeze account" (:mod:`~gatepass.demo.admin`) and a
live panel that shows what each design does about them (``static/live.js``).

Top layer: it may import anything in gatepass; nothing imports it. Modules, one job each:

``settings``     command line and environment, checked once
``accounts``     demo users, argon2 password checks, the frozen flag
``wiring``       the store and the strategies of the three designs
``admin``        freeze and unfreeze
``render``       ``{{ name }}`` templates with escaping by default; ``layout``: the page frame
``pages`` / ``classic`` / ``api``   the routes
``security``     default response headers (CSP); ``tools_mount``: the tools page at ``/tools/``
``app``          ``create_app``; ``__main__``: the server and its banner
"""
