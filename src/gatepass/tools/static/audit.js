/* gatepass tools: the keyless review of a decoded token, the same rules as `gatepass audit`.
 *
 * Ids, severities, texts, limits, words and patterns come from GPAuditRules (audit-rules.js,
 * generated from gatepass/cli/data/audit-rules.json, the file the command line reads). The logic
 * mirrors gatepass/cli/keyless.py rule for rule and in the same order, so that both list the same
 * findings in the same order; tests/tools/test_audit_parity.py runs one table of tokens through
 * both and compares. Exposes one global, GPAudit.
 */
"use strict";

(function (global) {
  const J = global.GPJose;
  const R = global.GPAuditRules;
  const P = global.GPDPoP;
  const L = R.limits;
  const RANK = Object.fromEntries(R.severities.map((name, index) => [name, index]));

  const compile = (pattern, flags) => new RegExp(pattern, flags || "");
  const whole = (pattern) => new RegExp("^(?:" + pattern + ")$");
  const KID_PATTERNS = R.kid_patterns.map((entry) => [entry.label, compile(entry.pattern, entry.flags)]);
  const EMAIL = whole(R.values.email);
  const PHONE = whole(R.values.phone);
  const CREDENTIAL_WORDS = new Set(R.credential_words);
  const CREDENTIAL_PAIRS = new Set(R.credential_pairs);
  const CREDENTIAL_NAMES = new Set(R.credential_names);
  const has = (obj, name) => Object.prototype.hasOwnProperty.call(obj, name);

  /** "{name}" placeholders, nothing else (gatepass/cli/audit_rules.py: fill). */
  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, (_, name) => String(values[name]));
  }

  function make(id, variant, values) {
    const rule = R.findings[id];
    const severity = typeof rule.severity === "string" ? rule.severity : rule.severity[variant];
    values = values || {};
    return { id, severity, title: fill(rule.title, values), why: fill(rule.why, values), fix: fill(rule.fix, values) };
  }

  const note = (id, name, values) => fill(R.findings[id][name], values || {});
  const quote = (text, limit) => JSON.stringify(String(text).slice(0, limit));
  const compact = (value, limit) => JSON.stringify(value).slice(0, limit);
  const span = J.humanDuration;
  const isNumber = (v) => typeof v === "number";

  function jsonType(value) {
    if (value === null) return "null";
    if (typeof value === "boolean") return "a boolean";
    if (typeof value === "number") return "a number";
    if (typeof value === "string") return "a string";
    if (Array.isArray(value)) return "an array";
    return "an object";
  }

  /** A claim name as lower-case words: "userEmail" and "user_email" are "user email". */
  function words(name) {
    return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase().split(/[-_. \t\r\n]+/).filter(Boolean);
  }

  function sortFindings(found) {
    return found
      .map((f, index) => [f, index])
      .sort((a, b) => RANK[a[0].severity] - RANK[b[0].severity] || a[1] - b[1])
      .map((pair) => pair[0]);
  }

  /* ---------- the header ---------- */

  function headerFindings(tok) {
    const h = tok.header;
    const found = [];
    const alg = h.alg;
    if (typeof alg !== "string" || alg === "") {
      found.push(make("alg-missing"));
    } else if (alg.toLowerCase() === "none") {
      found.push(make("alg-none", null, { alg: quote(alg, 20) }));
    } else if (!has(J.ALGS, alg)) {
      found.push(make("alg-unknown", null, { alg: quote(alg, 20) }));
    } else if (J.ALGS[alg].kty === "oct") {
      found.push(make("hmac", null, { alg }));
    }
    if (typeof alg === "string" && alg.toLowerCase() !== "none" && tok.signature.length === 0) {
      found.push(make("signature-empty", null, { alg: quote(alg, 20) }));
    }
    for (const name of ["jku", "x5u"]) {
      if (has(h, name)) {
        const value = h[name];
        const shown = typeof value === "string" ? quote(value, 60) : compact(value, 60);
        const https = typeof value === "string" && value.toLowerCase().startsWith("https://");
        found.push(make("header-" + name, null, { value: shown, insecure: https ? "" : note("header-" + name, "insecure_note") }));
      }
    }
    const proof = P.isProof(h);
    for (const name of ["jwk", "x5c"]) {
      // A DPoP proof must carry its key in jwk: that is what it proves possession of.
      if (has(h, name) && !(proof && name === "jwk")) found.push(make("header-" + name));
    }
    if (proof) found.push(...proofKeyFindings(has(h, "jwk") ? h.jwk : null));
    found.push(...kidFindings(has(h, "kid") ? h.kid : null));
    if (has(h, "crit")) {
      const crit = h.crit;
      const valid = Array.isArray(crit) && crit.length > 0 && crit.every((c) => typeof c === "string" && has(h, c));
      found.push(make("crit", valid ? "valid" : "malformed", { crit: compact(crit, 60), malformed: valid ? "" : note("crit", "malformed_note") }));
    }
    if (has(h, "zip")) found.push(make("header-zip"));
    if (h.b64 === false) found.push(make("header-b64"));
    const typ = has(h, "typ") ? h.typ : null;
    if (typ === null) found.push(make("typ-missing"));
    else if (typeof typ === "string" && typ.toUpperCase() === "JWT") found.push(make("typ-generic"));
    return found;
  }

  /** A DPoP proof's jwk: private members leak the key; a missing one proves nothing. */
  function proofKeyFindings(jwk) {
    const found = [];
    const leaked = P.privateMembers(jwk);
    if (leaked.length) found.push(make("dpop-private-key", null, { members: leaked.join(", ") }));
    const problem = P.jwkProblem(jwk);
    if (problem !== null) found.push(make("dpop-jwk-missing", null, { problem: " (" + problem + ")" }));
    return found;
  }

  function kidFindings(kid) {
    if (kid === null || kid === undefined) return [];
    if (typeof kid !== "string") return [make("kid-type", null, { type: jsonType(kid) })];
    const reasons = KID_PATTERNS.filter(([, pattern]) => pattern.test(kid)).map(([label]) => label);
    if (reasons.length) return [make("kid-injection", null, { kid: quote(kid, L.quoted), reasons: reasons.join(", ") })];
    if (kid.length > L.kid_length) return [make("kid-length", null, { length: kid.length })];
    return [];
  }

  /* ---------- the claims ---------- */

  const text = (value) => (value === null || value === undefined ? "" : typeof value === "string" ? value : compact(value, 1000));

  function looksLikeRefresh(h, c) {
    const markers = R.refresh_markers;
    const typ = text(has(h, "typ") ? h.typ : null).toLowerCase();
    let use = "";
    for (const name of markers.claims) {
      if (has(c, name)) {
        use = text(c[name]).toLowerCase();
        break;
      }
    }
    const contains = markers.typ_contains;
    return typ.includes(contains) || use.includes(contains) || typ.endsWith(markers.typ_ends_with);
  }

  function claimFindings(h, c, now) {
    const found = [];
    const get = (name) => (has(c, name) ? c[name] : null);
    const exp = get("exp");
    const iat = get("iat");
    const nbf = get("nbf");
    const proof = P.isProof(h);
    if (proof) {
      // A proof lives for the verifier's window after iat, not until an exp of its own.
      const absent = R.dpop.required_claims.filter((name) => !has(c, name));
      if (absent.length) found.push(make("dpop-claims-missing", null, { claims: absent.join(", ") }));
    } else if (exp === null) {
      found.push(make("exp-missing"));
    } else if (!isNumber(exp)) {
      found.push(make("exp-type", null, { type: jsonType(exp) }));
    } else {
      if (exp <= now) found.push(make("expired", null, { ago: span(now - exp) }));
      if (!looksLikeRefresh(h, c)) {
        const start = isNumber(iat) ? iat : now;
        const lifetime = exp - start;
        if (lifetime > L.access_token_lifetime) {
          const measured = R.findings["long-lifetime"].measured[isNumber(iat) ? "iat" : "now"];
          found.push(make("long-lifetime", lifetime > L.long_lifetime_high ? "over-a-day" : "over", { measured, lifetime: span(lifetime), limit: span(L.access_token_lifetime) }));
        }
      }
    }
    if (isNumber(iat) && iat > now + L.clock_skew) found.push(make("iat-future", null, { ahead: span(iat - now) }));
    if (isNumber(nbf) && nbf > now) found.push(make("not-yet-valid", null, { ahead: span(nbf - now) }));
    if (!proof) {
      for (const name of ["iss", "aud", "sub", "jti"]) {
        if (!has(c, name)) found.push(make(name + "-missing"));
      }
    }
    found.push(...contentFindings(c));
    return found;
  }

  /** [path, member name, value] of every member and array item, "a.b[0].c" style. */
  function walk(value, path, depth, out) {
    if (depth > L.nesting) return out;
    if (Array.isArray(value)) {
      value.slice(0, L.array_items).forEach((item, index) => {
        const sub = path + "[" + index + "]";
        out.push([sub, "", item]);
        walk(item, sub, depth + 1, out);
      });
    } else if (value !== null && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) {
        const sub = path ? path + "." + key : key;
        out.push([sub, key, item]);
        walk(item, sub, depth + 1, out);
      }
    }
    return out;
  }

  function credentialName(parts) {
    if (CREDENTIAL_NAMES.has(parts.join(""))) return true;
    if (parts.some((w) => CREDENTIAL_WORDS.has(w))) return true;
    for (let i = 0; i + 1 < parts.length; i++) if (CREDENTIAL_PAIRS.has(parts[i] + " " + parts[i + 1])) return true;
    return false;
  }

  function personalName(parts) {
    const joined = parts.join("");
    if (has(R.personal_names, joined)) return R.personal_names[joined];
    for (const w of parts) if (has(R.personal_words, w)) return R.personal_words[w];
    return null;
  }

  function looksLikePhone(value) {
    const digits = (value.match(/[0-9]/g) || []).length;
    const [low, high] = R.values.phone_digits;
    const separated = value.startsWith("+") || [" ", "-", "("].some((ch) => value.includes(ch));
    return PHONE.test(value) && digits >= low && digits <= high && separated;
  }

  function isEmpty(value) {
    if (value === null || typeof value === "boolean" || value === "") return true;
    if (Array.isArray(value)) return value.length === 0;
    return typeof value === "object" && Object.keys(value).length === 0;
  }

  function contentFindings(c) {
    const credentials = [];
    const personal = [];
    for (const [path, name, value] of walk(c, "", 0, [])) {
      const parts = words(name);
      const empty = isEmpty(value);
      const kind = empty ? null : personalName(parts);
      if (!empty && credentialName(parts)) credentials.push(path);
      else if (kind !== null) personal.push(path + " (" + kind + ")");
      else if (typeof value === "string" && EMAIL.test(value)) personal.push(path + " (an e-mail address)");
      else if (typeof value === "string" && looksLikePhone(value)) personal.push(path + " (a phone number)");
    }
    const found = [];
    if (credentials.length) found.push(make("credential-in-claims", null, { paths: credentials.slice(0, L.listed).join(", ") }));
    if (personal.length) found.push(make("personal-data", null, { items: personal.slice(0, L.listed).join(", ") }));
    return found;
  }

  /** Every keyless finding for a token returned by GPJose.parseToken, most severe first. */
  function audit(tok, now) {
    now = now === undefined ? J.nowSeconds() : now;
    const found = [];
    if (tok.payloadProblem) {
      found.push(make("malformed", "header", { problems: tok.payloadProblem }));
    } else if (tok.strictProblems.length) {
      found.push(make("not-canonical", null, { problem: tok.strictProblems[0] }));
    }
    if (tok.raw.length > L.size) {
      found.push(make("size", tok.raw.length > L.size_high ? "over-header-limit" : "over", { size: tok.raw.length, limit: L.size }));
    }
    found.push(...headerFindings(tok));
    if (tok.payload) found.push(...claimFindings(tok.header, tok.payload, now));
    return sortFindings(found);
  }

  global.GPAudit = { audit, words, fill };
})(window);
