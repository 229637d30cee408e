/* gatepass tools: the page's behaviour. Builds every piece of output with textContent (token
 * contents are attacker-controlled, so nothing from a token is ever parsed as HTML).
 */
"use strict";

(function () {
  const J = window.GPJose;
  const A = window.GPAudit;
  const P = window.GPDPoP;
  const $ = (id) => document.getElementById(id);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  const show = (node, on) => node.classList.toggle("hidden", !on);
  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  /* ---------- rendering helpers ---------- */

  const JSON_TOKEN = /("(?:\\u[0-9a-fA-F]{4}|\\[^u]|[^\\"])*"(\s*:)?|\btrue\b|\bfalse\b|\bnull\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;

  /** Pretty JSON with syntax colours, built from text nodes only. */
  function renderJson(pre, value) {
    clear(pre);
    const text = JSON.stringify(value, null, 2);
    let last = 0;
    let m;
    JSON_TOKEN.lastIndex = 0;
    while ((m = JSON_TOKEN.exec(text)) !== null) {
      if (m.index > last) pre.appendChild(document.createTextNode(text.slice(last, m.index)));
      let cls = "j-num";
      if (m[0][0] === '"') cls = m[2] ? "j-key" : "j-str";
      else if (m[0] === "true" || m[0] === "false") cls = "j-bool";
      else if (m[0] === "null") cls = "j-null";
      if (cls === "j-key") {
        pre.appendChild(el("span", cls, m[1].slice(0, m[1].length - m[2].length)));
        pre.appendChild(document.createTextNode(m[2]));
      } else {
        pre.appendChild(el("span", cls, m[0]));
      }
      last = m.index + m[0].length;
    }
    if (last < text.length) pre.appendChild(document.createTextNode(text.slice(last)));
  }

  function renderColoredToken(box, token) {
    clear(box);
    const parts = token.split(".");
    const classes = ["seg-header", "seg-payload", "seg-signature"];
    parts.forEach((part, i) => {
      if (i > 0) box.appendChild(el("span", "seg-dot", "."));
      box.appendChild(el("span", classes[i] || "seg-extra", part));
    });
  }

  function renderNotes(list, notes) {
    clear(list);
    for (const note of notes) list.appendChild(el("li", null, note));
    show(list, notes.length > 0);
  }

  const CLAIM_NAMES = {
    iss: "Issuer", sub: "Subject", aud: "Audience", exp: "Expires", nbf: "Not before", iat: "Issued at",
    jti: "Token id", sid: "Session id", scope: "Scopes", azp: "Authorized party", nonce: "Nonce",
    typ: "Type", auth_time: "Authenticated at", amr: "Auth methods", acr: "Auth context",
    client_id: "Client", roles: "Roles", email: "Email (personal data)", name: "Name (personal data)",
  };
  const TIME_CLAIMS = new Set(["exp", "nbf", "iat", "auth_time"]);

  function renderClaims(tbody, claims, now) {
    clear(tbody);
    for (const [name, value] of Object.entries(claims)) {
      const tr = el("tr");
      tr.dataset.claim = name;
      tr.appendChild(el("td", "mono", name));
      const shown = typeof value === "string" ? value : JSON.stringify(value);
      tr.appendChild(el("td", "mono value", shown.length > 200 ? shown.slice(0, 200) + "…" : shown));
      let meaning = CLAIM_NAMES[name] || "";
      if (TIME_CLAIMS.has(name)) {
        // The phrase says what the claim is ("expires in 12 min"): no "Expires: expires ...".
        meaning = J.describeTime(name, value, now);
        const td = el("td", "meaning", meaning);
        if (name === "exp" && J.isNumericDate(value)) td.classList.add(value <= now ? "bad" : "good");
        if (name === "nbf" && J.isNumericDate(value) && value > now) td.classList.add("bad");
        tr.appendChild(td);
      } else {
        tr.appendChild(el("td", "meaning", meaning));
      }
      tbody.appendChild(tr);
    }
    if (!tbody.firstChild) {
      const tr = el("tr");
      const td = el("td", "muted", "No claims.");
      td.colSpan = 3;
      tr.appendChild(td);
      tbody.appendChild(tr);
    }
  }

  function hexPreview(bytes) {
    let hex = "";
    for (let i = 0; i < Math.min(bytes.length, 24); i++) hex += bytes[i].toString(16).padStart(2, "0");
    return hex + (bytes.length > 24 ? "…" : "");
  }

  /* ---------- tabs ---------- */

  function selectPane(name) {
    for (const tab of document.querySelectorAll(".tab")) {
      const on = tab.dataset.pane === name;
      tab.classList.toggle("active", on);
      tab.setAttribute("aria-selected", on ? "true" : "false");
    }
    for (const pane of document.querySelectorAll(".pane")) show(pane, pane.id === "pane-" + name);
  }

  /* ---------- decode ---------- */

  function runDecode() {
    const input = $("decode-token").value;
    const errorBox = $("decode-error");
    if (input.trim() === "") {
      show(errorBox, false);
      show($("decode-output"), false);
      return;
    }
    let tok;
    try {
      tok = J.parseToken(input);
    } catch (e) {
      errorBox.textContent = e.message;
      show(errorBox, true);
      show($("decode-output"), false);
      return;
    }
    const now = J.nowSeconds();
    show(errorBox, false);
    renderColoredToken($("decode-colored"), tok.raw);
    renderNotes($("decode-notes"), tok.notes);
    renderJson($("decode-header"), tok.header);
    if (tok.payload) renderJson($("decode-payload"), tok.payload);
    else $("decode-payload").textContent = (tok.payloadError || "") + "\n\n" + tok.payloadText.slice(0, 2000);
    renderClaims($("decode-claims").tBodies[0], tok.payload || {}, now);
    const list = $("decode-warnings");
    clear(list);
    for (const f of A.audit(tok, now)) {
      const li = el("li", "finding sev-" + f.severity);
      li.dataset.severity = f.severity;
      li.appendChild(el("span", "sev", f.severity));
      li.dataset.id = f.id;
      const body = el("div", "finding-body");
      body.appendChild(el("strong", null, f.id + ": " + f.title));
      body.appendChild(el("p", null, f.why));
      if (f.fix) body.appendChild(el("p", "fix", "Fix: " + f.fix));
      li.appendChild(body);
      list.appendChild(li);
    }
    if (!list.firstChild) list.appendChild(el("li", "finding sev-ok", "Nothing stands out without a key."));
    renderDpop(tok, now);
    $("decode-signature").textContent =
      tok.signature.length + " bytes" + (tok.signature.length ? ": " + hexPreview(tok.signature) : " (no signature)") +
      ". Checked only in Verify, with your key.";
    show($("decode-output"), true);
  }

  /* The DPoP card: a proof's key thumbprint and request, or a token's binding. The thumbprint is
   * a WebCrypto digest (a promise), so the card fills in a moment later; a newer token wins. */
  let dpopRun = 0;
  async function renderDpop(tok, now) {
    const run = ++dpopRun;
    const card = $("decode-dpop");
    const view = tok.payload || P.isProof(tok.header) ? await P.describe(tok.header, tok.payload, now) : null;
    if (run !== dpopRun) return;
    delete card.dataset.kind;
    show(card, view !== null);
    if (view === null) return;
    card.dataset.kind = view.kind;
    card.dataset.jkt = view.jkt || "";
    const summary = $("decode-dpop-summary");
    summary.textContent = view.summary;
    summary.className = view.kind === "proof" && (view.private_key_members.length || !view.jkt) ? "bad" : "";
    show($("decode-dpop-proof"), view.kind === "proof");
    if (view.kind !== "proof") return;
    $("decode-dpop-jkt").textContent = view.jkt || "none: " + view.jwk_problem;
    $("decode-dpop-request").textContent = (view.htm || "(no htm)") + " " + (view.htu || "(no htu)");
    $("decode-dpop-iat").textContent = view.iat_note;
    $("decode-dpop-jti").textContent = view.jti || "(none)";
    $("decode-dpop-ath").textContent = view.ath || "(none: sent without an access token, as at login or refresh)";
    $("decode-dpop-nonce").textContent = view.nonce || "(none)";
  }

  /* ---------- verify ---------- */

  async function refreshKidChoices() {
    const format = $("verify-key-format").value;
    const text = $("verify-key").value;
    const label = $("verify-kid-label");
    const select = $("verify-kid");
    const keep = select.value;
    if (format !== "auto" || !/^\s*\{/.test(text)) {
      show(label, false);
      return;
    }
    let parsed;
    try {
      parsed = await J.parseKeyText(text, "auto");
    } catch (_e) {
      show(label, false);
      return;
    }
    if (parsed.kind !== "jwks") {
      show(label, false);
      return;
    }
    clear(select);
    const auto = el("option", null, "Match the token's kid");
    auto.value = "";
    select.appendChild(auto);
    for (const entry of parsed.entries) {
      if (!entry.kid) continue;
      const opt = el("option", null, entry.kid + " (" + (entry.alg || entry.kty) + ")");
      opt.value = entry.kid;
      select.appendChild(opt);
    }
    select.value = keep;
    if (select.value !== keep) select.value = "";
    show(label, true);
  }

  let verifying = 0;
  async function runVerify() {
    const run = ++verifying;
    const leeway = parseInt($("verify-leeway").value || "0", 10);
    const result = await J.verify({
      token: $("verify-token").value,
      keyText: $("verify-key").value,
      keyFormat: $("verify-key-format").value,
      alg: $("verify-alg").value || null,
      kid: $("verify-kid-label").classList.contains("hidden") ? null : $("verify-kid").value || null,
      leeway: Number.isFinite(leeway) && leeway > 0 ? leeway : 0,
      requireExp: $("verify-require-exp").checked,
      issuer: $("verify-iss").value.trim() || null,
      audience: $("verify-aud").value.trim() || null,
    });
    if (run !== verifying) return;
    const verdict = $("verify-verdict");
    verdict.className = "verdict " + result.verdict;
    verdict.dataset.verdict = result.verdict;
    clear(verdict);
    const icon = { valid: "✓", invalid: "✗", error: "!" }[result.verdict];
    verdict.appendChild(el("span", "verdict-icon", icon));
    verdict.appendChild(el("span", "verdict-text", result.summary));
    if (result.offerAlg) {
      const offer = el("button", "btn small offer-alg", "Use " + result.offerAlg + " (what the token says)");
      offer.type = "button";
      offer.id = "verify-offer-alg";
      offer.dataset.alg = result.offerAlg;
      offer.addEventListener("click", () => {
        $("verify-alg").value = result.offerAlg;
        runVerify();
      });
      verdict.appendChild(offer);
    }
    const list = $("verify-checks");
    clear(list);
    for (const c of result.checks) {
      const li = el("li", "check " + c.status);
      li.dataset.check = c.id;
      li.dataset.status = c.status;
      li.appendChild(el("span", "check-mark", { pass: "✓", fail: "✗", skip: "–", info: "i" }[c.status]));
      li.appendChild(el("strong", null, c.label));
      li.appendChild(el("span", "check-detail", c.detail));
      list.appendChild(li);
    }
    renderNotes($("verify-notes"), result.notes);
    if (result.claims) renderJson($("verify-claims"), result.claims);
    show($("verify-claims-card"), Boolean(result.claims));
    show($("verify-output"), true);
  }

  /* ---------- encode ---------- */

  function updateExpiresHint() {
    const hint = $("encode-expires-hint");
    try {
      const s = J.parseDuration($("encode-expires").value);
      hint.textContent = "expires in " + J.humanDuration(s) + (s > 900 ? " (over 15 min: long for an access token)" : "");
      hint.classList.toggle("warn-text", s > 900);
    } catch (e) {
      hint.textContent = e.message;
      hint.classList.add("warn-text");
    }
  }

  /** what: "The header is" / "The claims are" (subject and verb, so that both read right). */
  function parseJsonObject(text, what) {
    let value;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new J.JoseError("ERR_JSON", what + " not valid JSON: " + e.message);
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new J.JoseError("ERR_JSON", what + " not a JSON object.");
    }
    return value;
  }

  let lastSigned = null;
  async function runSign() {
    const errorBox = $("encode-error");
    show(errorBox, false);
    try {
      const header = parseJsonObject($("encode-header").value, "The header is");
      const claims = parseJsonObject($("encode-claims").value, "The claims are");
      const expiresIn = $("encode-set-times").checked ? J.parseDuration($("encode-expires").value) : null;
      const alg = $("encode-alg").value;
      const out = await J.sign({
        header,
        claims,
        alg,
        keyText: $("encode-key").value,
        keyFormat: $("encode-key-format").value,
        expiresIn,
      });
      lastSigned = { alg, entry: out.entry, keyFormat: $("encode-key-format").value, keyText: $("encode-key").value, token: out.token };
      renderNotes($("encode-notes"), out.notes);
      renderColoredToken($("encode-colored"), out.token);
      $("encode-token").value = out.token;
      show($("encode-output"), true);
    } catch (e) {
      errorBox.textContent = e.message || String(e);
      show(errorBox, true);
      show($("encode-output"), false);
    }
  }

  async function runGenerate() {
    const errorBox = $("encode-error");
    show(errorBox, false);
    const alg = $("encode-alg").value;
    const button = $("encode-generate");
    button.disabled = true;
    show($("gen-output"), false);
    delete $("gen-output").dataset.kid;
    delete $("gen-output").dataset.alg;
    try {
      const key = await J.generateKey(alg);
      const isSecret = key.secret !== null;
      $("gen-summary").textContent = "· " + alg + " · kid " + key.kid;
      $("gen-private-pem").textContent = key.privatePem || "";
      $("gen-public-pem").textContent = key.publicPem || "";
      $("gen-private-jwk").textContent = JSON.stringify(key.privateJwk, null, 2);
      $("gen-public-jwk").textContent = key.publicJwk ? JSON.stringify(key.publicJwk, null, 2) : "";
      $("gen-private-jwk-title").textContent = isSecret ? "Secret as a JWK (kty oct)" : "Private JWK";
      show($("gen-private-pem-box"), !isSecret);
      show($("gen-public-pem-box"), !isSecret);
      show($("gen-public-jwk-box"), !isSecret);
      $("gen-output").dataset.kid = key.kid;
      $("gen-output").dataset.alg = alg;
      show($("gen-output"), true);
      if (isSecret) {
        $("encode-key-format").value = "secret-b64url";
        $("encode-key").value = key.secret;
      } else {
        $("encode-key-format").value = "auto";
        $("encode-key").value = key.privatePem;
      }
      generatedKeyText = $("encode-key").value;
    } catch (e) {
      errorBox.textContent = e.message || String(e);
      show(errorBox, true);
    } finally {
      button.disabled = false;
    }
  }

  let generatedKeyText = null;

  /** A key generated for another algorithm is of no use any more: take it off the screen. */
  function algorithmChanged() {
    const panel = $("gen-output");
    if (panel.dataset.alg && panel.dataset.alg !== $("encode-alg").value) {
      show(panel, false);
      delete panel.dataset.kid;
      delete panel.dataset.alg;
      if ($("encode-key").value === generatedKeyText) {
        $("encode-key").value = "";
        $("encode-key-format").value = "auto";
      }
      generatedKeyText = null;
    }
  }

  /* Verify as you type (as jwt.io does), once there is a token and a key. */
  let verifyTimer = null;
  function scheduleVerify() {
    clearTimeout(verifyTimer);
    verifyTimer = setTimeout(() => {
      if ($("verify-token").value.trim() && $("verify-key").value.trim()) runVerify();
    }, 250);
  }

  async function sendToVerify() {
    if (!lastSigned) return;
    $("verify-token").value = lastSigned.token;
    if (lastSigned.entry.kty === "oct") {
      $("verify-key-format").value = lastSigned.keyFormat;
      $("verify-key").value = lastSigned.keyText;
    } else {
      $("verify-key-format").value = "auto";
      $("verify-key").value = JSON.stringify(await J.publicJwkFor(lastSigned.entry, lastSigned.alg), null, 2);
    }
    $("verify-alg").value = lastSigned.alg;
    await refreshKidChoices();
    selectPane("verify");
    await runVerify();
  }

  /* ---------- wiring ---------- */

  async function fillAlgSelects() {
    const edOk = await J.ed25519Supported();
    for (const select of document.querySelectorAll(".alg-select")) {
      for (const alg of J.ALG_NAMES) {
        const opt = el("option", null, alg + (J.ALGS[alg].kty === "OKP" && !edOk ? " (not supported by this browser)" : ""));
        opt.value = alg;
        opt.disabled = J.ALGS[alg].kty === "OKP" && !edOk;
        select.appendChild(opt);
      }
    }
    $("encode-alg").value = "ES256";
    $("verify-ed25519").textContent = edOk
      ? "This browser's WebCrypto supports Ed25519: EdDSA tokens can be verified and signed here."
      : "This browser's WebCrypto has no Ed25519: EdDSA is unavailable here (HS*, RS*, PS* and ES* work).";
    document.body.dataset.ed25519 = edOk ? "yes" : "no";
  }

  async function copyFrom(id) {
    const node = $(id);
    const text = "value" in node ? node.value : node.textContent;
    try {
      await navigator.clipboard.writeText(text);
    } catch (_e) {
      /* clipboard may be unavailable (file://, permissions); selecting lets the user copy by hand */
      const range = document.createRange();
      range.selectNodeContents(node);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
    }
  }

  async function init() {
    if (!J.available) {
      const fatal = $("fatal");
      fatal.textContent = "WebCrypto (crypto.subtle) is not available here. Open the page from disk or through `gatepass tools` (http://127.0.0.1), which browsers treat as secure contexts.";
      show(fatal, true);
      return;
    }
    for (const tab of document.querySelectorAll(".tab")) {
      tab.addEventListener("click", () => selectPane(tab.dataset.pane));
    }
    $("decode-token").addEventListener("input", runDecode);
    $("decode-to-verify").addEventListener("click", () => {
      $("verify-token").value = $("decode-token").value.trim();
      selectPane("verify");
      $("verify-key").focus();
    });
    $("verify-run").addEventListener("click", runVerify);
    for (const id of ["verify-token", "verify-key", "verify-leeway", "verify-iss", "verify-aud"]) {
      $(id).addEventListener("input", scheduleVerify);
    }
    for (const id of ["verify-key-format", "verify-alg", "verify-kid", "verify-require-exp"]) {
      $(id).addEventListener("change", scheduleVerify);
    }
    $("encode-alg").addEventListener("change", algorithmChanged);
    $("verify-key").addEventListener("input", refreshKidChoices);
    $("verify-key-format").addEventListener("change", refreshKidChoices);
    $("encode-sign").addEventListener("click", runSign);
    $("encode-generate").addEventListener("click", runGenerate);
    $("encode-expires").addEventListener("input", updateExpiresHint);
    $("encode-to-verify").addEventListener("click", sendToVerify);
    $("encode-to-decode").addEventListener("click", () => {
      $("decode-token").value = $("encode-token").value;
      selectPane("decode");
      runDecode();
    });
    for (const button of document.querySelectorAll(".copy")) {
      button.addEventListener("click", () => copyFrom(button.dataset.copy));
    }
    await fillAlgSelects();
    updateExpiresHint();
    // A token handed over as #token=... (the reference app's "open in the tools page"): a URL
    // fragment is never sent to a server, so the token reaches no request and no log. Read once,
    // then removed from the address bar and this history entry.
    const handed = new URLSearchParams(location.hash.slice(1)).get("token");
    if (handed) {
      $("decode-token").value = handed;
      history.replaceState(null, "", location.pathname + location.search);
    }
    runDecode();
    document.body.dataset.ready = "true";
  }

  init();
})();
