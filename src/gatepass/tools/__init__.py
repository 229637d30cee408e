"""The offline JWT tools page: decode, verify and encode in the browser, nothing leaves the device.

The page is a handful of static files in ``static/`` (no framework, no build step) that does all of
its cryptography through WebCrypto. ``gatepass.tools.server`` serves those files on loopback for
``gatepass tools``; the same files also work when opened straight from disk.
"""
