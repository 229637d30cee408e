/* gatepass tools: warnings about a decoded token that need no key (the keyless part of
 * `gatepass audit`). Each finding has a severity, a title and why it matters.
 * Exposes one global, GPAudit.
 */
"use strict";

(function (global) {
  const J = global.GPJose;
  const MAX_ACCESS_LIFETIME = 15 * 60;
  const MAX_SIZE = 1024;

  const SECRET_WORDS = new Set(["password", "passwd", "pwd", "pass", "passphrase", "secret", "pin", "otp", "totp", "apikey", "credential", "credentials", "privatekey"]);
  const SECRET_PAIRS = new Set(["api key", "private key", "access key", "client secret"]);
  const PERSONAL_WORDS = new Set(["email", "mail", "phone", "mobile", "tel", "telephone", "address", "street", "zip", "postcode", "postal", "birthdate", "birthday", "dob", "ssn", "passport", "iban", "creditcard", "card", "ip"]);
  const PERSONAL_NAMES = new Set(["name", "given_name", "family_name", "middle_name", "full_name", "fullname", "first_name", "firstname", "last_name", "lastname", "surname"]);

  /** Split a claim name into lower-case words: "userEmail" / "user_email" -> ["user", "email"]. */
  function words(name) {
    return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase().split(/[_\-.\s]+/).filter(Boolean);
  }

  function classifyName(name) {
    const w = words(name);
    for (let i = 0; i < w.length; i++) {
      if (SECRET_WORDS.has(w[i]) || (i + 1 < w.length && SECRET_PAIRS.has(w[i] + " " + w[i + 1]))) return "secret";
    }
    if (PERSONAL_NAMES.has(w.join("_")) || w.some((x) => PERSONAL_WORDS.has(x))) return "personal";
    return null;
  }
  const EMAIL_VALUE = /^[^\s@]{1,64}@[^\s@]+\.[a-z]{2,}$/i;
  const PHONE_VALUE = /^(\+[0-9][0-9 ()\-.]{7,}|\(?[0-9]{2,4}\)?[ \-.][0-9 \-.]{6,})$/;

  const SEVERITY_ORDER = ["critical", "high", "medium", "low", "info"];

  function finding(severity, title, why) {
    return { severity, title, why };
  }

  /** Reasons a kid value looks like an injection attempt (path traversal, SQL, commands, URLs). */
  function kidProblems(kid) {
    const out = [];
    if (/\.\.[\\/]|^[\\/]|[\\/](etc|proc|dev|var|tmp|windows)[\\/]|^[a-z]:\\|\0|%00|%2e%2e/i.test(kid)) out.push("path traversal or a file path");
    if (/'|"|;|--|\/\*|\b(union|select|insert|update|delete|drop|sleep|or\s+\d+\s*=\s*\d+)\b/i.test(kid)) out.push("SQL syntax");
    if (/[`|&$<>]|\$\(/.test(kid)) out.push("shell metacharacters");
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(kid)) out.push("a URL");
    if (kid.length > 128) out.push("an unusually long value (" + kid.length + " characters)");
    return out;
  }

  function walkClaims(obj, path, visit, depth) {
    if (depth > 6 || obj === null || typeof obj !== "object") return;
    for (const [name, value] of Object.entries(obj)) {
      const here = path ? path + "." + name : name;
      visit(name, value, here);
      if (value && typeof value === "object") walkClaims(value, here, visit, depth + 1);
    }
  }

  /** Findings for a token returned by GPJose.parseToken. */
  function audit(tok, now) {
    now = now === undefined ? J.nowSeconds() : now;
    const out = [];
    const h = tok.header;
    const c = tok.payload;
    const alg = h.alg;

    if (typeof alg !== "string") {
      out.push(finding("critical", "No algorithm in the header", "A JWS header must name its alg; no verifier should accept this."));
    } else if (alg.toLowerCase() === "none") {
      out.push(finding("critical", 'alg: "' + alg + '" (unsigned token)', "Anyone can write this token. A verifier that accepts it accepts forgeries; gatepass never does."));
    } else if (!J.ALGS[alg]) {
      out.push(finding("high", "Unsupported algorithm " + JSON.stringify(alg).slice(0, 30), "gatepass verifies only HS*, RS*, PS*, ES* and EdDSA; anything else is refused."));
    } else if (alg.startsWith("HS")) {
      out.push(finding("info", "Symmetric algorithm " + alg, "Every service that can verify this token can also mint one. Prefer ES256/EdDSA when several services verify."));
    }
    if (tok.signature.length === 0 && typeof alg === "string" && alg.toLowerCase() !== "none") {
      out.push(finding("critical", "Empty signature", "The header claims " + alg + " but there is no signature; this token cannot be valid."));
    }

    const keyHeaders = { jku: "a URL to fetch keys from", x5u: "a URL to fetch a certificate from", jwk: "an embedded public key", x5c: "an embedded certificate chain" };
    for (const [name, what] of Object.entries(keyHeaders)) {
      if (h[name] !== undefined) {
        out.push(finding("high", '"' + name + '" header (' + what + ")", "A token must never choose the key that verifies it: an attacker puts their own key here. Verifiers must ignore it (this page never fetches it)."));
      }
    }
    if (typeof h.kid === "string") {
      const problems = kidProblems(h.kid);
      if (problems.length) {
        out.push(finding("high", "Suspicious kid: " + problems.join(", "), "kid values that reach a file path, SQL query or shell let an attacker choose the key (e.g. /dev/null as an empty HMAC secret). Look keys up in a fixed set only."));
      }
    } else if (h.kid !== undefined) {
      out.push(finding("medium", "kid is not a string", "RFC 7515 defines kid as a string; other types have crashed or confused verifiers."));
    }
    if (h.crit !== undefined) {
      out.push(finding("medium", 'Critical header "crit": ' + JSON.stringify(h.crit).slice(0, 60), "Verifiers must reject tokens whose critical extensions they do not understand (RFC 7515 §4.1.11); gatepass does."));
    }
    if (h.zip !== undefined) {
      out.push(finding("medium", '"zip" header', "Compression is a JWE feature (and a decompression-bomb risk); it has no place in a signed JWT."));
    }

    for (const problem of tok.strictProblems) {
      out.push(finding("high", "Ambiguous JSON", problem + " Strict verifiers (gatepass included) reject such tokens; lenient ones may each read something different."));
    }
    if (tok.raw.length > MAX_SIZE) {
      out.push(finding("low", "Large token: " + tok.raw.length + " bytes", "It rides on every request. Over 1 KB usually means profile data that belongs in the API, not the token."));
    }

    if (!c) {
      out.push(finding("medium", "The payload is not a JSON object", tok.payloadError || "A JWT claims set is a JSON object."));
      return out;
    }
    if (c.exp === undefined) {
      out.push(finding("high", "No expiry (exp)", "Without exp a stolen token works forever. gatepass requires exp by default."));
    } else if (!J.isNumericDate(c.exp)) {
      out.push(finding("high", "exp is not a number", "exp must be a NumericDate (seconds since 1970); string dates are rejected."));
    } else {
      if (c.exp <= now) out.push(finding("info", "Expired " + J.humanDuration(now - c.exp) + " ago", "Any verifier must reject it (unless its leeway covers it)."));
      const start = J.isNumericDate(c.iat) ? c.iat : J.isNumericDate(c.nbf) ? c.nbf : null;
      if (start !== null && c.exp - start > MAX_ACCESS_LIFETIME) {
        out.push(finding("medium", "Long lifetime: " + J.humanDuration(c.exp - start), "Access tokens should live about 15 minutes: a JWT cannot be revoked, so its lifetime is the window a stolen token stays usable. Use a refresh token for longer sessions."));
      } else if (start === null && c.exp - now > MAX_ACCESS_LIFETIME) {
        out.push(finding("medium", "Valid for another " + J.humanDuration(c.exp - now), "Access tokens should live about 15 minutes; a JWT cannot be revoked before exp."));
      }
    }
    if (c.nbf !== undefined && J.isNumericDate(c.nbf) && c.nbf > now) {
      out.push(finding("info", "Not valid yet (nbf in " + J.humanDuration(c.nbf - now) + ")", "Verifiers reject it until then."));
    }
    if (J.isNumericDate(c.iat) && c.iat > now + 60) {
      out.push(finding("low", "Issued in the future", "iat is " + J.humanDuration(c.iat - now) + " ahead: check the issuer's clock."));
    }

    const personal = [];
    const secrets = [];
    walkClaims(c, "", (name, value, path) => {
      const kind = classifyName(name);
      if (kind === "secret") secrets.push(path);
      else if (kind === "personal") personal.push(path);
      else if (typeof value === "string" && (EMAIL_VALUE.test(value) || (PHONE_VALUE.test(value) && /\d{7,}/.test(value.replace(/\D/g, ""))))) personal.push(path);
    }, 0);
    if (secrets.length) {
      out.push(finding("high", "Secret-like claims: " + secrets.slice(0, 5).join(", "), "The payload is only base64url-encoded, not encrypted: anyone holding the token can read it. Never put passwords or secrets in a JWT."));
    }
    if (personal.length) {
      out.push(finding("medium", "Personal data in claims: " + personal.slice(0, 5).join(", "), "Tokens end up in logs, browser storage and proxies, readable by anyone. Carry a user id and look the rest up server-side."));
    }
    if (c.sub === undefined) out.push(finding("low", "No subject (sub)", "Most APIs need to know whose token this is."));
    out.sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity));
    return out;
  }

  global.GPAudit = { audit, kidProblems, classifyName };
})(window);
