/* gatepass tools: what the Decode pane says about DPoP (RFC 9449), offline.
 *
 * A proof (typ dpop+jwt): the RFC 7638 thumbprint of the key in its jwk (what a bound token's
 * cnf.jkt must equal), the request it names (htm, htu), its age against a verifier's window, jti,
 * ath, nonce, and whether its jwk leaks the private key. A token with cnf.jkt: bound to that key.
 * The same document as gatepass/cli/dpop_view.py (`gatepass decode --json`, member "dpop");
 * tests/tools/test_dpop_tools.py compares the two. Data (typ, members, window) comes from the
 * shared rules file (GPAuditRules.dpop). Exposes one global, GPDPoP.
 */
"use strict";

(function (global) {
  const J = global.GPJose;
  const D = global.GPAuditRules.dpop;
  const has = (obj, name) => Object.prototype.hasOwnProperty.call(obj, name);
  const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  const text = (v) => (typeof v === "string" ? v : null);
  const span = J.humanDuration;
  // RFC 7638 3.2: the members a thumbprint hashes, per key type.
  const PUBLIC_MEMBERS = { EC: ["crv", "kty", "x", "y"], RSA: ["e", "kty", "n"], OKP: ["crv", "kty", "x"], oct: ["k", "kty"] };

  function isProof(header) {
    return typeof header.typ === "string" && header.typ.toLowerCase() === D.typ;
  }

  function privateMembers(jwk) {
    return isObject(jwk) ? D.private_members.filter((name) => has(jwk, name)) : [];
  }

  function jwkProblem(jwk) {
    if (jwk === undefined || jwk === null) return "the header has no jwk";
    if (!isObject(jwk)) return "jwk is not a JSON object";
    const members = typeof jwk.kty === "string" && has(PUBLIC_MEMBERS, jwk.kty) ? PUBLIC_MEMBERS[jwk.kty] : null;
    if (!members) return "jwk has no known kty (EC, RSA, OKP)";
    const absent = members.filter((m) => typeof jwk[m] !== "string" || jwk[m] === "");
    return absent.length ? "jwk lacks " + absent.join(", ") : null;
  }

  function age(iat, now) {
    if (typeof iat !== "number") return [null, "no iat: every verifier refuses the proof"];
    const seconds = Math.round(now - iat);
    if (now - iat > D.max_age) {
      return [seconds, "made " + span(now - iat) + " ago: older than the " + D.max_age + " s a default verifier accepts"];
    }
    if (iat - now > D.leeway) {
      return [seconds, "dated " + span(iat - now) + " in the future: beyond the " + D.leeway + " s a default verifier allows"];
    }
    return [seconds, iat <= now ? "made " + span(now - iat) + " ago" : "made just now"];
  }

  async function proofView(header, claims, now) {
    const jwk = has(header, "jwk") ? header.jwk : null;
    const problem = jwkProblem(jwk);
    const jkt = problem === null ? await J.thumbprint(jwk) : null;
    const [seconds, note] = age(has(claims, "iat") ? claims.iat : null, now);
    const leaked = privateMembers(jwk);
    const htm = text(claims.htm);
    const htu = text(claims.htu);
    let summary = "DPoP proof for " + (htm || "?") + " " + (htu || "?");
    summary += jkt ? " by key " + jkt : " (" + problem + ")";
    if (leaked.length) summary += "; its jwk holds the PRIVATE key (" + leaked.join(", ") + "): refused by verifiers";
    return {
      kind: "proof",
      jkt,
      jwk_problem: problem,
      private_key_members: leaked,
      htm,
      htu,
      iat: has(claims, "iat") ? claims.iat : null,
      iat_age_seconds: seconds,
      iat_note: note,
      jti: text(claims.jti),
      ath: text(claims.ath),
      nonce: text(claims.nonce),
      summary,
    };
  }

  function boundView(cnf) {
    if (cnf === undefined || cnf === null) return null;
    const jkt = isObject(cnf) ? cnf.jkt : null;
    if (typeof jkt === "string" && jkt) {
      return { kind: "bound_token", jkt, summary: "bound to key " + jkt + ": usable only with a DPoP proof from that key" };
    }
    const methods = isObject(cnf) && Object.keys(cnf).length ? Object.keys(cnf).join(", ") : "nothing usable";
    return {
      kind: "bound_token",
      jkt: null,
      summary: "bound by cnf (" + methods + "), not by a DPoP key thumbprint (jkt): gatepass refuses it rather than treat it as a bearer token",
    };
  }

  /** The "dpop" member of `gatepass decode --json` for a parsed token: a promise of it or null. */
  async function describe(header, claims, now) {
    if (isProof(header)) return proofView(header, claims || {}, now);
    if (!claims) return null;
    return boundView(has(claims, "cnf") ? claims.cnf : null);
  }

  global.GPDPoP = { describe, isProof, jwkProblem, privateMembers };
})(window);
