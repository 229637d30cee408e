"""What the property tests of ``test_web_fuzz.py`` found, each pinned as one focused request
through both middlewares (``webfuzz.py``)."""

from __future__ import annotations

from pathlib import Path

from webfuzz import Request, world

from gatepass.tokens import dpop


def test_an_empty_host_names_no_url_under_either_middleware(tmp_path: Path) -> None:
    """``Host:`` with an empty value is no host (RFC 9112 3.2: invalid for an http(s) URL).
    The WSGI middleware used to replace it with the server's own address, as for a request
    without ``Host``, so a DPoP proof for ``https://127.0.0.1:8000/me`` passed there while the
    ASGI middleware refused it: both now keep the empty value and no proof matches."""
    with world("dpop", str(tmp_path)) as a, world("dpop", str(tmp_path)) as w:
        for side, run in ((a, a.run_asgi), (w, w.run_wsgi)):
            side.login()
            token = side.creds["ACCESS"]
            assert side.dpop_key is not None
            proof = dpop.create_proof(
                side.dpop_key, method="GET", url="https://127.0.0.1:8000/me", access_token=token
            )
            headers = [
                (b"host", b""),
                (b"authorization", f"DPoP {token}".encode()),
                (b"dpop", proof.encode()),
            ]
            answer = run(Request("GET", "/me", headers, []))
            assert answer.reached_app and answer.principal is None, run.__name__
