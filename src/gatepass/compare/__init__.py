"""``gatepass compare``: the article's "JWT vs session cookie" table, measured on this machine.

The top layer, beside the command line: it uses only gatepass's public API and measures what an
application would get. One job per module:

``settings``     how much to measure, and the configuration every design is measured with
``targets``      the stores measured (memory, SQLite, Redis, PostgreSQL), opened privately
``servers``      the Redis / PostgreSQL chores beyond the store API: versions, clean-up
``headers``      the request header each design sends (the web layer's cookie names, once)
``timing``       the cost of one call: median of timed rounds
``checks``       one authenticated request of each design, buildable in another process
``probe``        watching a credential from another process (``worker``) or thread
``revocation``   revocation delay: revoke here, see the first refusal there
``designs``      each design measured: bytes, verification cost, revocation
``facts``        the columns that are properties of a design (XSS, CSRF, infrastructure...)
``rows``, ``run``  the table and the whole run; ``machine`` describes the computer
``wording``, ``report_text``, ``report_html``, ``charts``  the table as text, JSON and a page
``walkthrough``  the console story of each design (``gatepass compare --walkthrough``)
"""
