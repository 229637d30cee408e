"""gatepass-dpop.js in headless Chromium: the browser's DPoP key and the proofs it signs.

The proofs are checked by gatepass's own verifier (``gatepass.tokens.dpop_verify``), the one the
server uses: made in the browser, verified in Python. The key is the one promise DPoP rests on:
made once per browser profile, found again after a reload and by every tab, and never readable
(``extractable: false``), not even by a script that opens the IndexedDB database itself.
"""

from __future__ import annotations

from typing import Any

import pytest
from browser_kit import AppServer, Contexts

from gatepass.errors import DPoPProofReplayed, DPoPRequestMismatch
from gatepass.tokens import dpop
from gatepass.tokens.dpop_replay import MemoryReplayCache

pytestmark = [pytest.mark.browser]

LOAD = """async () => {
  const { DPoPKey } = await import("/auth/gatepass-dpop.js");
  window.key = await DPoPKey.load();
  return key.thumbprint;
}"""

#: What an injected script can do with the stored key: find it, try to export it, use it.
STEAL = """async () => {
  const db = await new Promise((ok, fail) => {
    const r = indexedDB.open("gatepass-dpop");
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
  const pair = await new Promise((ok, fail) => {
    const r = db.transaction("keys").objectStore("keys").get("ES256");
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
  db.close();
  const out = { extractable: pair.privateKey.extractable, usages: pair.privateKey.usages };
  for (const format of ["jwk", "pkcs8"]) {
    try {
      await crypto.subtle.exportKey(format, pair.privateKey);
      out[format] = "exported";
    } catch (error) {
      out[format] = error.name;
    }
  }
  return out;
}"""


def _page(contexts: Contexts, app: AppServer, context: Any = None) -> Any:
    if context is None:
        context, _ = contexts.new()
    page = context.new_page()
    page.goto(f"{app.url}/")
    return page


def test_proofs_from_the_browser_verify_in_python(
    hybrid_app: AppServer, contexts: Contexts
) -> None:
    page = _page(contexts, hybrid_app)
    jkt = page.evaluate(LOAD)
    url = f"{hybrid_app.url}/me?page=2#top"
    proof = page.evaluate(
        "([url]) => key.proof('GET', url, { accessToken: 'header.claims.sig', nonce: 'n-1' })",
        [url],
    )
    verifier = dpop.DPoPVerifier(replay=MemoryReplayCache(), algorithms=("ES256",))
    checked = verifier.verify(
        proof, method="GET", url=url, access_token="header.claims.sig", nonce="n-1"
    )
    assert checked.jkt == jkt
    assert checked.alg == "ES256"
    # The same checks the server makes refuse it for anything else, and a second time.
    with pytest.raises(DPoPProofReplayed):
        verifier.verify(proof, method="GET", url=url, access_token="header.claims.sig", nonce="n-1")
    login = page.evaluate("([url]) => key.proof('POST', url)", [f"{hybrid_app.url}/auth/login"])
    verifier.verify(login, method="POST", url=f"{hybrid_app.url}/auth/login")
    with pytest.raises(DPoPRequestMismatch):
        verifier.verify(
            page.evaluate("([url]) => key.proof('POST', url)", [f"{hybrid_app.url}/auth/login"]),
            method="POST",
            url=f"{hybrid_app.url}/auth/refresh",
        )


def test_one_key_per_profile_that_no_script_can_export(
    hybrid_app: AppServer, contexts: Contexts
) -> None:
    context, _ = contexts.new()
    page = _page(contexts, hybrid_app, context)
    first = page.evaluate(LOAD)
    page.reload()
    assert page.evaluate(LOAD) == first, "a reload finds the same key"
    other_tab = _page(contexts, hybrid_app, context)
    assert other_tab.evaluate(LOAD) == first, "every tab of the profile signs with it"

    stolen = page.evaluate(STEAL)
    assert stolen == {
        "extractable": False,
        "usages": ["sign"],
        "jwk": "InvalidAccessError",
        "pkcs8": "InvalidAccessError",
    }
    other_profile = _page(contexts, hybrid_app)
    assert other_profile.evaluate(LOAD) != first, "another profile (device) has its own key"


def test_tabs_racing_to_make_the_key_end_up_with_one(
    hybrid_app: AppServer, contexts: Contexts
) -> None:
    context, _ = contexts.new()
    pages = [_page(contexts, hybrid_app, context) for _ in range(3)]
    for page in pages:  # start all three loads before awaiting any
        page.evaluate(
            """async () => {
              const { DPoPKey } = await import("/auth/gatepass-dpop.js");
              window.loading = DPoPKey.load();
            }"""
        )
    prints = {page.evaluate("async () => (await loading).thumbprint") for page in pages}
    assert len(prints) == 1


def test_a_damaged_or_extractable_stored_key_is_replaced(
    hybrid_app: AppServer, contexts: Contexts
) -> None:
    """Whatever sits under the key's name (another script's entry, an extractable pair) is not
    signed with: a fresh non-extractable pair takes its place."""
    page = _page(contexts, hybrid_app)
    first = page.evaluate(LOAD)
    planted = page.evaluate(
        """async () => {
          const pair = await crypto.subtle.generateKey(
            { name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
          const db = await new Promise((ok) => {
            const r = indexedDB.open("gatepass-dpop");
            r.onsuccess = () => ok(r.result);
          });
          await new Promise((ok) => {
            const r = db.transaction("keys", "readwrite").objectStore("keys").put(pair, "ES256");
            r.onsuccess = ok;
          });
          db.close();
          return pair.privateKey.extractable;
        }"""
    )
    assert planted is True
    second = page.evaluate(LOAD)
    assert second != first
    assert page.evaluate(STEAL)["jwk"] == "InvalidAccessError"
    assert page.evaluate(LOAD) == second, "the replacement is the one kept"
