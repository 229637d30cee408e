/* gatepass tools: JOSE primitives on top of WebCrypto (crypto.subtle). No network, no eval.
 *
 * Rules this file enforces (see docs/tools-page.md):
 *  - strict base64url: no padding, no foreign characters, no non-zero trailing bits;
 *  - the algorithm comes from the key (or the algorithm the user picked), never from the token;
 *  - "none" is never valid; ECDSA signatures are exactly twice the coordinate size;
 *  - keys and key URLs named by the token (jwk, jku, x5u, x5c) are never used or fetched.
 * Exposes one global, GPJose, so the page works from file:// without ES modules.
 */
"use strict";

(function (global) {
  const subtle = global.crypto && global.crypto.subtle;
  const encoder = new TextEncoder();
  const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

  class JoseError extends Error {
    constructor(code, message) {
      super(message);
      this.name = "JoseError";
      this.code = code;
    }
  }

  /* ---------- algorithms ---------- */

  const ALGS = {
    HS256: { kty: "oct", name: "HMAC", hash: "SHA-256", minKey: 32 },
    HS384: { kty: "oct", name: "HMAC", hash: "SHA-384", minKey: 48 },
    HS512: { kty: "oct", name: "HMAC", hash: "SHA-512", minKey: 64 },
    RS256: { kty: "RSA", name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    RS384: { kty: "RSA", name: "RSASSA-PKCS1-v1_5", hash: "SHA-384" },
    RS512: { kty: "RSA", name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" },
    PS256: { kty: "RSA", name: "RSA-PSS", hash: "SHA-256", saltLength: 32 },
    PS384: { kty: "RSA", name: "RSA-PSS", hash: "SHA-384", saltLength: 48 },
    PS512: { kty: "RSA", name: "RSA-PSS", hash: "SHA-512", saltLength: 64 },
    ES256: { kty: "EC", name: "ECDSA", hash: "SHA-256", crv: "P-256", sigLen: 64 },
    ES384: { kty: "EC", name: "ECDSA", hash: "SHA-384", crv: "P-384", sigLen: 96 },
    ES512: { kty: "EC", name: "ECDSA", hash: "SHA-512", crv: "P-521", sigLen: 132 },
    EdDSA: { kty: "OKP", name: "Ed25519", crv: "Ed25519", sigLen: 64 },
    Ed25519: { kty: "OKP", name: "Ed25519", crv: "Ed25519", sigLen: 64 },
  };
  const ALG_NAMES = Object.keys(ALGS);
  const MIN_RSA_BITS = 2048;
  const MAX_VERIFY_SIZE = 8192; // same default as gatepass's jwt.verify(max_size=8192)
  const MAX_DECODE_SIZE = 65536;

  let ed25519Probe = null;
  /** Resolves to true when this browser's WebCrypto implements Ed25519 (feature detection). */
  function ed25519Supported() {
    if (!ed25519Probe) {
      ed25519Probe = subtle
        ? subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]).then(
            () => true,
            () => false,
          )
        : Promise.resolve(false);
    }
    return ed25519Probe;
  }

  /* ---------- base64url / base64 ---------- */

  const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const URL_LOOKUP = new Int16Array(128).fill(-1);
  const STD_LOOKUP = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) {
    URL_LOOKUP[B64URL.charCodeAt(i)] = i;
    STD_LOOKUP[B64.charCodeAt(i)] = i;
  }

  function describeChar(code) {
    if (code === 32) return "a space";
    if (code === 10 || code === 13) return "a line break";
    if (code === 9) return "a tab";
    if (code < 32 || code === 127) return "control character U+" + code.toString(16).padStart(4, "0");
    return JSON.stringify(String.fromCharCode(code));
  }

  function decodeWith(str, lookup, what) {
    const n = str.length;
    if (n % 4 === 1) {
      throw new JoseError("ERR_B64", what + ": impossible base64url length (" + n + " characters).");
    }
    const out = new Uint8Array(Math.floor((n * 3) / 4));
    let acc = 0;
    let bits = 0;
    let o = 0;
    for (let i = 0; i < n; i++) {
      const v = lookup[str.charCodeAt(i)];
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out[o++] = (acc >> bits) & 0xff;
      }
    }
    if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) {
      throw new JoseError(
        "ERR_B64",
        what + ": non-canonical base64url (the last character has non-zero unused bits).",
      );
    }
    return out;
  }

  /** Strict RFC 7515 base64url: alphabet A-Z a-z 0-9 - _ only, no "=" padding, canonical. */
  function b64urlDecode(str, what) {
    what = what || "value";
    if (typeof str !== "string") throw new JoseError("ERR_B64", what + ": expected a string.");
    for (let i = 0; i < str.length; i++) {
      const c = str.charCodeAt(i);
      if (c < 128 && URL_LOOKUP[c] >= 0) continue;
      if (c === 61) {
        throw new JoseError(
          "ERR_B64_PADDING",
          what + ': padding "=" at position ' + i + " is not allowed (JWTs use unpadded base64url).",
        );
      }
      if (c === 43 || c === 47) {
        throw new JoseError(
          "ERR_B64_ALPHABET",
          what + ": " + describeChar(c) + " at position " + i +
            ' is standard base64, not base64url (which uses "-" and "_").',
        );
      }
      throw new JoseError(
        "ERR_B64_CHAR",
        what + ": invalid character " + describeChar(c) + " at position " + i + ".",
      );
    }
    return decodeWith(str, URL_LOOKUP, what);
  }

  function encodeWith(bytes, alphabet, pad) {
    let out = "";
    let i = 0;
    for (; i + 2 < bytes.length; i += 3) {
      const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
      out += alphabet[v >> 18] + alphabet[(v >> 12) & 63] + alphabet[(v >> 6) & 63] + alphabet[v & 63];
    }
    const rest = bytes.length - i;
    if (rest === 1) {
      const v = bytes[i] << 16;
      out += alphabet[v >> 18] + alphabet[(v >> 12) & 63] + (pad ? "==" : "");
    } else if (rest === 2) {
      const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
      out += alphabet[v >> 18] + alphabet[(v >> 12) & 63] + alphabet[(v >> 6) & 63] + (pad ? "=" : "");
    }
    return out;
  }

  function b64urlEncode(bytes) {
    if (typeof bytes === "string") bytes = encoder.encode(bytes);
    return encodeWith(new Uint8Array(bytes), B64URL, false);
  }

  /** Standard base64 as found inside PEM armour (whitespace already removed, padding allowed). */
  function b64Decode(str, what) {
    const body = str.replace(/={1,2}$/, "");
    for (let i = 0; i < body.length; i++) {
      const c = body.charCodeAt(i);
      if (!(c < 128 && STD_LOOKUP[c] >= 0)) {
        throw new JoseError("ERR_PEM", what + ": invalid character " + describeChar(c) + " in the base64 body.");
      }
    }
    if (str.length % 4 !== 0) throw new JoseError("ERR_PEM", what + ": the base64 body is truncated.");
    return decodeWith(body, STD_LOOKUP, what);
  }

  function toPem(label, der) {
    const b64 = encodeWith(new Uint8Array(der), B64, true);
    const lines = b64.match(/.{1,64}/g) || [];
    return "-----BEGIN " + label + "-----\n" + lines.join("\n") + "\n-----END " + label + "-----\n";
  }

  function concat(...parts) {
    let n = 0;
    for (const p of parts) n += p.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /* ---------- a minimal DER reader/writer (enough for SPKI, PKCS#8, PKCS#1, SEC1, X.509) ---------- */

  function derNode(bytes, pos) {
    if (pos + 2 > bytes.length) throw new JoseError("ERR_DER", "truncated DER structure");
    const tag = bytes[pos];
    let len = bytes[pos + 1];
    let hdr = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || pos + 2 + n > bytes.length) {
        throw new JoseError("ERR_DER", "unsupported DER length");
      }
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + bytes[pos + 2 + i];
      hdr = 2 + n;
    }
    const start = pos + hdr;
    const end = start + len;
    if (end > bytes.length) throw new JoseError("ERR_DER", "truncated DER structure");
    return { tag, pos, start, end };
  }

  function derChildren(bytes, node) {
    const out = [];
    let p = node.start;
    while (p < node.end) {
      const child = derNode(bytes, p);
      out.push(child);
      p = child.end;
    }
    return out;
  }

  function derOid(bytes, node) {
    if (node.tag !== 0x06) throw new JoseError("ERR_DER", "expected an OBJECT IDENTIFIER");
    const b = bytes.subarray(node.start, node.end);
    const parts = [];
    let v = 0;
    for (let i = 0; i < b.length; i++) {
      v = v * 128 + (b[i] & 0x7f);
      if (!(b[i] & 0x80)) {
        if (parts.length === 0) {
          const first = v < 80 ? Math.floor(v / 40) : 2;
          parts.push(first, v - first * 40);
        } else {
          parts.push(v);
        }
        v = 0;
      }
    }
    return parts.join(".");
  }

  function derLength(n) {
    if (n < 128) return Uint8Array.of(n);
    const out = [];
    while (n > 0) {
      out.unshift(n & 0xff);
      n = Math.floor(n / 256);
    }
    return Uint8Array.of(0x80 | out.length, ...out);
  }

  function der(tag, ...contents) {
    const body = concat(...contents);
    return concat(Uint8Array.of(tag), derLength(body.length), body);
  }

  const OID = {
    rsaEncryption: "1.2.840.113549.1.1.1",
    rsassaPss: "1.2.840.113549.1.1.10",
    ecPublicKey: "1.2.840.10045.2.1",
    "1.2.840.10045.3.1.7": "P-256",
    "1.3.132.0.34": "P-384",
    "1.3.132.0.35": "P-521",
    "1.3.132.0.10": "secp256k1",
    ed25519: "1.3.101.112",
    ed448: "1.3.101.113",
  };
  const RSA_ALG_ID = Uint8Array.of(
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
  );
  const EC_PUBLIC_KEY_OID = Uint8Array.of(0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01);

  /** Algorithm identifier of an SPKI or PKCS#8 structure: {oid, curve}. */
  function algorithmIdentifier(bytes, algNode) {
    const parts = derChildren(bytes, algNode);
    const oid = derOid(bytes, parts[0]);
    let curve = null;
    if (parts[1] && parts[1].tag === 0x06) curve = derOid(bytes, parts[1]);
    return { oid, curve };
  }

  function spkiFromCertificate(bytes) {
    const cert = derNode(bytes, 0);
    const tbs = derChildren(bytes, cert)[0];
    const fields = derChildren(bytes, tbs);
    const offset = fields[0].tag === 0xa0 ? 1 : 0; // optional [0] version
    const spki = fields[offset + 5];
    if (!spki || spki.tag !== 0x30) throw new JoseError("ERR_DER", "no public key in the certificate");
    return bytes.slice(spki.pos, spki.end);
  }

  function sec1ToPkcs8(bytes) {
    const seq = derNode(bytes, 0);
    const fields = derChildren(bytes, seq);
    const params = fields.find((f) => f.tag === 0xa0);
    if (!params) {
      throw new JoseError("ERR_KEY", 'This "EC PRIVATE KEY" does not name its curve; convert it with `openssl pkcs8 -topk8 -nocrypt`.');
    }
    const curveTlv = bytes.slice(params.start, params.end);
    return der(0x30, Uint8Array.of(0x02, 0x01, 0x00), der(0x30, EC_PUBLIC_KEY_OID, curveTlv), der(0x04, bytes));
  }

  /* ---------- keys ---------- */

  function cleanJwk(jwk) {
    const out = {};
    for (const name of ["kty", "crv", "alg", "kid", "use", "key_ops"]) {
      if (jwk[name] !== undefined) out[name] = jwk[name];
    }
    for (const name of ["n", "e", "x", "y", "k", "d", "p", "q", "dp", "dq", "qi"]) {
      if (jwk[name] !== undefined) out[name] = jwk[name];
    }
    return out;
  }

  const PUBLIC_MEMBERS = { RSA: ["n", "e"], EC: ["crv", "x", "y"], OKP: ["crv", "x"], oct: ["k"] };
  const PRIVATE_MEMBERS = { RSA: ["d", "p", "q", "dp", "dq", "qi"], EC: ["d"], OKP: ["d"], oct: [] };

  function publicJwk(jwk) {
    if (jwk.kty === "oct") throw new JoseError("ERR_KEY", "An HMAC secret has no public part.");
    const out = { kty: jwk.kty };
    for (const name of PUBLIC_MEMBERS[jwk.kty]) out[name] = jwk[name];
    return out;
  }

  function keyMaterial(jwk, priv) {
    const out = { kty: jwk.kty };
    for (const name of PUBLIC_MEMBERS[jwk.kty]) out[name] = jwk[name];
    if (priv) for (const name of PRIVATE_MEMBERS[jwk.kty]) out[name] = jwk[name];
    return out;
  }

  /** RFC 7638 JWK thumbprint (SHA-256, base64url), the default kid, as in gatepass's Key. */
  async function thumbprint(jwk) {
    const members = { EC: ["crv", "kty", "x", "y"], RSA: ["e", "kty", "n"], OKP: ["crv", "kty", "x"], oct: ["k", "kty"] }[jwk.kty];
    const obj = {};
    for (const m of members) obj[m] = jwk[m];
    const digest = await subtle.digest("SHA-256", encoder.encode(JSON.stringify(obj)));
    return b64urlEncode(new Uint8Array(digest));
  }

  function rsaBits(jwk) {
    const n = b64urlDecode(jwk.n, "RSA modulus n");
    let i = 0;
    while (i < n.length && n[i] === 0) i++;
    if (i === n.length) return 0;
    return (n.length - i) * 8 - (Math.clz32(n[i]) - 24);
  }

  function describeKey(entry) {
    const jwk = entry.jwk;
    let what;
    if (jwk.kty === "oct") what = "HMAC secret (" + b64urlDecode(jwk.k, "k").length + " bytes)";
    else if (jwk.kty === "RSA") what = "RSA " + rsaBits(jwk) + "-bit " + (entry.isPrivate ? "private" : "public") + " key";
    else what = jwk.crv + " " + (entry.isPrivate ? "private" : "public") + " key";
    return what;
  }

  function makeEntry(jwk, source) {
    const isPrivate = jwk.kty === "oct" || jwk.d !== undefined;
    return {
      jwk,
      kty: jwk.kty,
      crv: jwk.crv || null,
      alg: jwk.alg || null,
      kid: typeof jwk.kid === "string" ? jwk.kid : null,
      use: jwk.use || null,
      keyOps: Array.isArray(jwk.key_ops) ? jwk.key_ops : null,
      isPrivate,
      source,
    };
  }

  function validateJwk(jwk, where) {
    if (jwk === null || typeof jwk !== "object" || Array.isArray(jwk)) {
      throw new JoseError("ERR_KEY", where + " is not a JSON object.");
    }
    const kty = jwk.kty;
    if (!["oct", "RSA", "EC", "OKP"].includes(kty)) {
      throw new JoseError("ERR_KEY", where + ": unsupported kty " + JSON.stringify(kty) + " (expected oct, RSA, EC or OKP).");
    }
    for (const name of PUBLIC_MEMBERS[kty]) {
      if (typeof jwk[name] !== "string") {
        throw new JoseError("ERR_KEY", where + ": a " + kty + " JWK needs the member " + JSON.stringify(name) + ".");
      }
    }
    if (jwk.alg !== undefined && !ALGS[jwk.alg]) {
      throw new JoseError("ERR_KEY", where + ": unsupported alg " + JSON.stringify(String(jwk.alg)).slice(0, 40) + ".");
    }
    if (kty === "EC" && !["P-256", "P-384", "P-521"].includes(jwk.crv)) {
      throw new JoseError("ERR_KEY", where + ": unsupported EC curve " + JSON.stringify(jwk.crv) + " (P-256, P-384 or P-521).");
    }
    if (kty === "OKP" && jwk.crv !== "Ed25519") {
      throw new JoseError("ERR_KEY", where + ": unsupported OKP curve " + JSON.stringify(jwk.crv) + " (only Ed25519).");
    }
    const members = PUBLIC_MEMBERS[kty].filter((m) => m !== "crv").concat(jwk.d !== undefined ? PRIVATE_MEMBERS[kty] : []);
    for (const name of members) {
      if (jwk[name] === undefined) {
        throw new JoseError("ERR_KEY", where + ": a private " + kty + " JWK needs " + JSON.stringify(name) + " (WebCrypto needs all CRT members).");
      }
      b64urlDecode(jwk[name], where + " member " + JSON.stringify(name));
    }
    if (kty === "oct" && b64urlDecode(jwk.k, "k").length === 0) {
      throw new JoseError("ERR_KEY", where + ": the HMAC secret is empty.");
    }
  }

  function parsePemBlocks(text) {
    const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;
    const blocks = [];
    let m;
    while ((m = re.exec(text)) !== null) {
      if (m[1] !== m[3]) {
        throw new JoseError("ERR_PEM", 'PEM armour mismatch: "BEGIN ' + m[1] + '" ends with "END ' + m[3] + '".');
      }
      blocks.push({ label: m[1], der: b64Decode(m[2].replace(/\s+/g, ""), "PEM " + m[1]) });
    }
    if (blocks.length === 0) throw new JoseError("ERR_PEM", "No complete PEM block (-----BEGIN ...----- / -----END ...-----) found.");
    return blocks;
  }

  async function importDerToJwk(format, derBytes) {
    const top = derNode(derBytes, 0);
    const kids = derChildren(derBytes, top);
    const algNode = format === "spki" ? kids[0] : kids[1];
    if (!algNode || algNode.tag !== 0x30) throw new JoseError("ERR_PEM", "The PEM body is not a " + (format === "spki" ? "SubjectPublicKeyInfo" : "PKCS#8") + " structure.");
    const { oid, curve } = algorithmIdentifier(derBytes, algNode);
    const usage = format === "spki" ? ["verify"] : ["sign"];
    let params;
    if (oid === OID.rsaEncryption) {
      params = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
    } else if (oid === OID.ecPublicKey) {
      const crv = OID[curve];
      if (!["P-256", "P-384", "P-521"].includes(crv)) {
        throw new JoseError("ERR_KEY", "Unsupported EC curve " + (crv || curve) + "; JWS uses P-256 (ES256), P-384 (ES384) or P-521 (ES512).");
      }
      params = { name: "ECDSA", namedCurve: crv };
    } else if (oid === OID.ed25519) {
      if (!(await ed25519Supported())) throw new JoseError("ERR_UNSUPPORTED", "This browser's WebCrypto does not support Ed25519 keys.");
      params = { name: "Ed25519" };
    } else if (oid === OID.rsassaPss) {
      throw new JoseError("ERR_KEY", "RSASSA-PSS-restricted keys (OID 1.2.840.113549.1.1.10) are not supported by WebCrypto; export the key as a plain RSA key (rsaEncryption) and choose PS256/384/512.");
    } else if (oid === OID.ed448) {
      throw new JoseError("ERR_KEY", "Ed448 keys are not supported (gatepass signs EdDSA with Ed25519 only).");
    } else {
      throw new JoseError("ERR_KEY", "Unsupported key algorithm OID " + oid + ".");
    }
    let key;
    try {
      key = await subtle.importKey(format, derBytes, params, true, usage);
    } catch (e) {
      throw new JoseError("ERR_KEY", "WebCrypto could not import this key: " + (e && e.message ? e.message : e));
    }
    const jwk = await subtle.exportKey("jwk", key);
    return keyMaterial(jwk, format === "pkcs8");
  }

  async function parsePem(text) {
    const blocks = parsePemBlocks(text);
    const notes = [];
    if (blocks.length > 1) notes.push("The PEM text holds " + blocks.length + " blocks; only the first (" + blocks[0].label + ") is used.");
    const { label, der: body } = blocks[0];
    let jwk;
    switch (label) {
      case "PUBLIC KEY":
        jwk = await importDerToJwk("spki", body);
        break;
      case "PRIVATE KEY":
        jwk = await importDerToJwk("pkcs8", body);
        break;
      case "RSA PUBLIC KEY":
        notes.push('Converted a PKCS#1 "RSA PUBLIC KEY" to SubjectPublicKeyInfo.');
        jwk = await importDerToJwk("spki", der(0x30, RSA_ALG_ID, der(0x03, Uint8Array.of(0), body)));
        break;
      case "RSA PRIVATE KEY":
        notes.push('Converted a PKCS#1 "RSA PRIVATE KEY" to PKCS#8.');
        jwk = await importDerToJwk("pkcs8", der(0x30, Uint8Array.of(0x02, 0x01, 0x00), RSA_ALG_ID, der(0x04, body)));
        break;
      case "EC PRIVATE KEY":
        notes.push('Converted a SEC1 "EC PRIVATE KEY" to PKCS#8.');
        jwk = await importDerToJwk("pkcs8", sec1ToPkcs8(body));
        break;
      case "CERTIFICATE":
        notes.push("Using the public key of the certificate (its validity and chain are NOT checked).");
        jwk = await importDerToJwk("spki", spkiFromCertificate(body));
        break;
      case "ENCRYPTED PRIVATE KEY":
        throw new JoseError("ERR_KEY", "This private key is encrypted; decrypt it first (`openssl pkey -in key.pem -out plain.pem`).");
      case "OPENSSH PRIVATE KEY":
        throw new JoseError("ERR_KEY", "OpenSSH keys are not JOSE keys; convert with `ssh-keygen -p -m PKCS8 -f key` or use a PEM/JWK key.");
      default:
        throw new JoseError("ERR_KEY", 'Unsupported PEM type "' + label + '"; use "PUBLIC KEY" (SPKI), "PRIVATE KEY" (PKCS#8) or "CERTIFICATE".');
    }
    return { kind: "pem", entries: [makeEntry(jwk, "PEM " + label)], notes };
  }

  function parseJson(text, where) {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new JoseError("ERR_KEY", where + " is not valid JSON: " + (e && e.message ? e.message : e));
    }
  }

  /**
   * Parse what the user pasted into a list of typed key entries.
   * format: "auto" (PEM, JWK or JWKS), "secret-text" (UTF-8) or "secret-b64url".
   * An HMAC secret is only ever made on explicit request or from a kty "oct" JWK: a public key
   * can never turn into an HMAC secret (the classic algorithm-confusion forgery).
   */
  async function parseKeyText(text, format) {
    if (format === "secret-text" || format === "secret-b64url") {
      if (text.length === 0) throw new JoseError("ERR_KEY", "The HMAC secret is empty.");
      const bytes = format === "secret-text" ? encoder.encode(text) : b64urlDecode(text.trim(), "HMAC secret");
      if (bytes.length === 0) throw new JoseError("ERR_KEY", "The HMAC secret is empty.");
      const notes = [];
      if (format === "secret-text" && /^-----BEGIN|^\s*\{/.test(text)) {
        notes.push("This secret looks like a PEM or JSON key. Using a key as an HMAC secret is how algorithm-confusion forgeries work; choose \"PEM / JWK / JWKS\" unless you really mean it.");
      }
      return { kind: "secret", entries: [makeEntry({ kty: "oct", k: b64urlEncode(bytes) }, "HMAC secret")], notes };
    }
    const trimmed = text.trim();
    if (trimmed === "") throw new JoseError("ERR_KEY", "Paste a key first.");
    if (trimmed.startsWith("-----BEGIN")) return parsePem(trimmed);
    if (trimmed.startsWith("{")) {
      const obj = parseJson(trimmed, "The key");
      if (obj && Array.isArray(obj.keys)) {
        const entries = [];
        const notes = [];
        obj.keys.forEach((jwk, i) => {
          try {
            validateJwk(jwk, "JWKS key #" + (i + 1));
            entries.push(makeEntry(cleanJwk(jwk), "JWKS key #" + (i + 1)));
          } catch (e) {
            notes.push(e.message + " (skipped)");
          }
        });
        if (entries.length === 0) throw new JoseError("ERR_KEY", "The JWKS holds no usable key." + (notes.length ? " " + notes.join(" ") : ""));
        return { kind: "jwks", entries, notes };
      }
      validateJwk(obj, "The JWK");
      return { kind: "jwk", entries: [makeEntry(cleanJwk(obj), "JWK")], notes: [] };
    }
    throw new JoseError(
      "ERR_KEY",
      'This is neither a PEM key ("-----BEGIN ...") nor a JWK/JWKS (JSON). If it is an HMAC secret, choose "HMAC secret" as the key type.',
    );
  }

  function ktyLabel(entry) {
    if (entry.kty === "oct") return "an HMAC secret";
    if (entry.kty === "RSA") return "an RSA key";
    return "an " + entry.kty + " " + entry.crv + " key";
  }

  /** Is this key usable for this algorithm? Returns an error message or null. */
  function keyAlgProblem(entry, alg) {
    const spec = ALGS[alg];
    if (!spec) return "Unsupported algorithm " + JSON.stringify(alg) + ".";
    if (entry.kty !== spec.kty || (spec.crv && entry.crv !== spec.crv)) {
      const needs = { oct: "an HMAC secret", RSA: "an RSA key", EC: "an EC " + spec.crv + " key", OKP: "an Ed25519 key" }[spec.kty];
      return "The key is " + ktyLabel(entry) + "; " + alg + " needs " + needs + ".";
    }
    return null;
  }

  /**
   * The algorithm to use: the one the user picked, else the key's own "alg", else the only one the
   * key type allows (EC curve, Ed25519). Never the token's header.
   */
  function resolveAlg(entry, chosen) {
    if (chosen && entry.alg && !sameAlgorithm(chosen, entry.alg)) {
      throw new JoseError("ERR_KEY", "The key is marked for " + entry.alg + " but " + chosen + " is selected; pick one.");
    }
    let alg = chosen || entry.alg;
    if (!alg) {
      if (entry.kty === "EC") alg = { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512" }[entry.crv];
      else if (entry.kty === "OKP") alg = "EdDSA";
      else {
        throw new JoseError(
          "ERR_ALG_REQUIRED",
          "The key is " + ktyLabel(entry) + " and does not say which algorithm it is for; choose one in the Algorithm list (" +
            (entry.kty === "RSA" ? "RS256…PS512" : "HS256, HS384 or HS512") + ").",
        );
      }
    }
    const problem = keyAlgProblem(entry, alg);
    if (problem) throw new JoseError("ERR_KEY", problem);
    return alg;
  }

  /** "EdDSA" and its RFC 9864 name "Ed25519" denote the same algorithm (as in gatepass). */
  function sameAlgorithm(a, b) {
    return a === b || (ED_NAMES.has(a) && ED_NAMES.has(b));
  }
  const ED_NAMES = new Set(["EdDSA", "Ed25519"]);

  function usageProblem(entry, op) {
    if (entry.use && entry.use !== "sig") return "the key is marked use: " + JSON.stringify(entry.use) + ", not for signatures";
    if (entry.keyOps && !entry.keyOps.includes(op)) return "the key's key_ops " + JSON.stringify(entry.keyOps) + " do not allow " + op;
    return null;
  }

  function importParams(alg) {
    const spec = ALGS[alg];
    if (spec.name === "HMAC") return { name: "HMAC", hash: spec.hash };
    if (spec.name === "ECDSA") return { name: "ECDSA", namedCurve: spec.crv };
    if (spec.name === "Ed25519") return { name: "Ed25519" };
    return { name: spec.name, hash: spec.hash };
  }

  function opParams(alg) {
    const spec = ALGS[alg];
    if (spec.name === "ECDSA") return { name: "ECDSA", hash: spec.hash };
    if (spec.name === "RSA-PSS") return { name: "RSA-PSS", saltLength: spec.saltLength };
    return { name: spec.name };
  }

  async function importCryptoKey(entry, alg, op) {
    if (ALGS[alg].kty === "OKP" && !(await ed25519Supported())) {
      throw new JoseError("ERR_UNSUPPORTED", "This browser's WebCrypto does not support Ed25519, so " + alg + " cannot be used here.");
    }
    try {
      if (entry.kty === "oct") {
        return await subtle.importKey("raw", b64urlDecode(entry.jwk.k, "k"), importParams(alg), false, [op]);
      }
      if (op === "sign" && !entry.isPrivate) {
        throw new JoseError("ERR_KEY", "This is a public key; signing needs the private key (PEM \"BEGIN PRIVATE KEY\" or a JWK with \"d\").");
      }
      return await subtle.importKey("jwk", keyMaterial(entry.jwk, op === "sign"), importParams(alg), false, [op]);
    } catch (e) {
      if (e instanceof JoseError) throw e;
      throw new JoseError("ERR_KEY", "WebCrypto could not import the key for " + alg + ": " + (e && e.message ? e.message : e));
    }
  }

  /* ---------- tokens ---------- */

  const MAX_JSON_DEPTH = 16; // as gatepass's strict JSON

  /**
   * What JSON.parse silently accepts but a strict JOSE parser must not (RFC 7515 §5.2, RFC 8725):
   * duplicate member names (two parsers may pick different values) and deep nesting.
   * Runs only on text JSON.parse already accepted, so a token-level scan is enough.
   */
  function strictJsonProblems(text, what) {
    const problems = [];
    const stack = [];
    let maxDepth = 0;
    const re = /"(?:[^"\\]|\\.)*"|[{}[\],:]|[^\s{}[\],:"]+/g;
    let m;
    while ((m = re.exec(text)) !== null) {
      const t = m[0];
      const top = stack[stack.length - 1];
      if (t === "{" || t === "[") {
        stack.push({ object: t === "{", keys: new Set(), expectKey: t === "{" });
        maxDepth = Math.max(maxDepth, stack.length);
      } else if (t === "}" || t === "]") {
        stack.pop();
      } else if (t === ",") {
        if (top && top.object) top.expectKey = true;
      } else if (t[0] === '"' && top && top.object && top.expectKey) {
        const name = JSON.parse(t);
        if (top.keys.has(name)) problems.push(what + " has the member " + JSON.stringify(name.slice(0, 40)) + " twice (parsers disagree on which value counts).");
        top.keys.add(name);
        top.expectKey = false;
      }
    }
    if (maxDepth > MAX_JSON_DEPTH) problems.push(what + " is nested " + maxDepth + " levels deep (limit " + MAX_JSON_DEPTH + ").");
    return problems;
  }

  /**
   * Decode one JSON segment. Returns {value, error, problem}: "error" is the page's message,
   * "problem" the audit's wording of it ("not JSON" / "not a JSON object", as gatepass audit says).
   */
  function decodeJsonSegment(segment, what) {
    const bytes = b64urlDecode(segment, what);
    let text;
    try {
      text = strictUtf8.decode(bytes);
    } catch (_e) {
      return { bytes, text: "", value: undefined, error: what + " is not valid UTF-8.", problem: "not JSON" };
    }
    let value;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return { bytes, text, value: undefined, error: what + " is not valid JSON: " + (e && e.message ? e.message : e), problem: "not JSON" };
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      return { bytes, text, value: undefined, error: what + " is JSON but not an object.", problem: "not a JSON object" };
    }
    return { bytes, text, value, error: null, problem: null, strict: strictJsonProblems(text, what) };
  }

  /**
   * Split and decode a compact JWS/JWT without checking anything cryptographic.
   * Throws JoseError for anything that is not three strict base64url segments with a JSON header.
   */
  function parseToken(input, maxSize) {
    const notes = [];
    let raw = String(input).trim();
    if (/^bearer\s+/i.test(raw)) {
      raw = raw.replace(/^bearer\s+/i, "");
      notes.push('Removed the "Bearer " prefix.');
    }
    if (raw === "") throw new JoseError("ERR_EMPTY", "Paste a token first.");
    const limit = maxSize || MAX_DECODE_SIZE;
    if (raw.length > limit) {
      throw new JoseError("ERR_TOO_LARGE", "The token is " + raw.length + " characters; the limit here is " + limit + ".");
    }
    const ws = raw.search(/\s/);
    if (ws >= 0) throw new JoseError("ERR_FORMAT", "The token contains whitespace at position " + ws + "; a compact JWT has none.");
    const parts = raw.split(".");
    if (parts.length === 5) throw new JoseError("ERR_JWE", "This has 5 segments: it is an encrypted JWE, not a signed JWT. gatepass does not decrypt JWE.");
    if (parts.length !== 3) {
      throw new JoseError("ERR_FORMAT", "A JWT has exactly 3 segments (header.payload.signature); this has " + parts.length + ".");
    }
    const header = decodeJsonSegment(parts[0], "Header");
    if (header.error) throw new JoseError("ERR_JSON", header.error);
    const payload = decodeJsonSegment(parts[1], "Payload");
    const signature = b64urlDecode(parts[2], "Signature");
    return {
      raw,
      parts,
      header: header.value,
      headerText: header.text,
      payload: payload.value,
      payloadText: payload.text,
      payloadError: payload.error,
      payloadProblem: payload.problem ? "the payload is " + payload.problem : null,
      strictProblems: header.strict.concat(payload.strict || []),
      signature,
      signingInput: encoder.encode(parts[0] + "." + parts[1]),
      notes,
    };
  }

  const nowSeconds = () => Math.floor(Date.now() / 1000);

  /** "45 s", "12 min", "3 h", "9 d", "6 years": gatepass's own wording (cli/output.py: span). */
  function humanDuration(seconds) {
    seconds = Math.abs(seconds);
    if (seconds < 90) return Math.round(seconds) + " s";
    if (seconds < 90 * 60) return Math.round(seconds / 60) + " min";
    if (seconds < 2 * 86400) return Math.round(seconds / 3600) + " h";
    if (seconds < 2 * 365 * 86400) return Math.round(seconds / 86400) + " d";
    return Math.round(seconds / (365.25 * 86400)) + " years";
  }

  function formatDate(seconds) {
    const d = new Date(seconds * 1000);
    if (isNaN(d.getTime())) return "invalid date";
    return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  }

  const isNumericDate = (v) => typeof v === "number" && Number.isFinite(v);

  /** Human-readable meaning of a time claim relative to now. */
  function describeTime(name, value, now) {
    if (!isNumericDate(value)) return "not a NumericDate (seconds since 1970)";
    const delta = value - now;
    const at = formatDate(value);
    if (name === "exp") return (delta <= 0 ? "expired " + humanDuration(delta) + " ago" : "expires in " + humanDuration(delta)) + " · " + at;
    if (name === "nbf") return (delta > 0 ? "not valid for another " + humanDuration(delta) : "valid since " + humanDuration(delta) + " ago") + " · " + at;
    return (delta > 0 ? "in " + humanDuration(delta) + " (in the future!)" : humanDuration(delta) + " ago") + " · " + at;
  }

  /** "15m", "1h30m", "900", "2d" -> seconds. */
  function parseDuration(text) {
    const t = String(text).trim().toLowerCase();
    if (/^\d+$/.test(t)) return parseInt(t, 10);
    const re = /(\d+)\s*(s|sec|m|min|h|d)/g;
    const units = { s: 1, sec: 1, m: 60, min: 60, h: 3600, d: 86400 };
    let total = 0;
    let consumed = "";
    let m;
    while ((m = re.exec(t)) !== null) {
      total += parseInt(m[1], 10) * units[m[2]];
      consumed += m[0];
    }
    if (!consumed || consumed.replace(/\s/g, "") !== t.replace(/\s/g, "")) {
      throw new JoseError("ERR_DURATION", 'Cannot read the duration "' + String(text).slice(0, 20) + '"; write e.g. 900, 15m, 1h or 1h30m.');
    }
    return total;
  }

  function check(id, status, label, detail) {
    return { id, status, label, detail: detail || "" };
  }

  function selectKey(parsed, header, opts, checks) {
    const entries = parsed.entries;
    if (parsed.kind !== "jwks") return entries[0];
    let candidates;
    if (opts.kid) {
      candidates = entries.filter((e) => e.kid === opts.kid);
    } else if (typeof header.kid === "string") {
      candidates = entries.filter((e) => e.kid === header.kid);
      if (candidates.length === 0) {
        const kids = entries.map((e) => e.kid || "(none)").join(", ");
        throw Object.assign(new JoseError("ERR_KEY_NOT_FOUND", "No key in the set has kid " + JSON.stringify(header.kid.slice(0, 60)) + " (the set has: " + kids + ")."), { check: "key" });
      }
    } else {
      candidates = entries;
    }
    if (opts.alg) candidates = candidates.filter((e) => !keyAlgProblem(e, opts.alg) && (!e.alg || sameAlgorithm(e.alg, opts.alg)));
    if (candidates.length !== 1) {
      const why = candidates.length === 0 ? "no key in the set fits" : candidates.length + " keys in the set fit";
      throw Object.assign(new JoseError("ERR_KEY_NOT_FOUND", why + (typeof header.kid === "string" ? " kid " + JSON.stringify(header.kid.slice(0, 60)) : " (the token has no kid)") + "; exactly one must match. Pick a key from the set."), { check: "key" });
    }
    checks.push(check("key", "pass", "Key", "selected " + (candidates[0].kid ? "kid " + JSON.stringify(candidates[0].kid) : candidates[0].source) + " from the set"));
    return candidates[0];
  }

  /**
   * Verify a token. Returns {verdict: "valid"|"invalid"|"error", summary, checks, claims, header, notes}.
   * "error" means the key or settings are unusable (nothing was decided about the token).
   * opts: {token, keyText, keyFormat, alg, kid, leeway, requireExp, issuer, audience, now}
   */
  async function verify(opts) {
    const checks = [];
    const notes = [];
    const now = opts.now !== undefined && opts.now !== null ? opts.now : nowSeconds();
    const leeway = opts.leeway || 0;
    const result = (verdict, summary, extra) => Object.assign({ verdict, summary, checks, notes, claims: null, header: null }, extra || {});

    let tok;
    try {
      tok = parseToken(opts.token, MAX_VERIFY_SIZE);
    } catch (e) {
      checks.push(check("format", "fail", "Format", e.message));
      return result("invalid", "Malformed token: " + e.message);
    }
    notes.push(...tok.notes);
    if (tok.strictProblems.length) {
      checks.push(check("format", "fail", "Format", tok.strictProblems.join(" ")));
      return result("invalid", "Malformed token: " + tok.strictProblems[0]);
    }
    checks.push(check("format", "pass", "Format", "three strict base64url segments, JSON header"));
    const header = tok.header;
    for (const name of ["jku", "x5u", "jwk", "x5c"]) {
      if (header[name] !== undefined) {
        notes.push("The token carries a " + JSON.stringify(name) + " header. It was ignored: this page never fetches or trusts keys named by the token, only the key you pasted.");
      }
    }
    const headerAlg = header.alg;
    if (typeof headerAlg !== "string") {
      checks.push(check("alg", "fail", "Algorithm", "the header has no \"alg\" string"));
      return result("invalid", "Invalid: the header has no algorithm.", { header });
    }
    if (headerAlg.toLowerCase() === "none") {
      checks.push(check("alg", "fail", "Algorithm", "alg \"" + headerAlg + "\": an unsigned token is never valid"));
      checks.push(check("signature", "fail", "Signature", "no signature to check"));
      return result("invalid", "Invalid: alg \"none\" means unsigned, and an unsigned token is never valid.", { header });
    }
    if (header.crit !== undefined) {
      const crit = Array.isArray(header.crit) ? header.crit : [header.crit];
      checks.push(check("crit", "fail", "Critical headers", "unknown critical header parameter(s): " + JSON.stringify(crit).slice(0, 80)));
      return result("invalid", "Invalid: the token requires extensions this verifier does not understand (crit).", { header });
    }

    let parsed;
    try {
      parsed = await parseKeyText(opts.keyText || "", opts.keyFormat || "auto");
    } catch (e) {
      return result("error", "Key problem: " + e.message, { header });
    }
    notes.push(...parsed.notes);

    let entry;
    try {
      entry = selectKey(parsed, header, opts, checks);
    } catch (e) {
      if (e.check === "key") {
        checks.push(check("key", "fail", "Key", e.message));
        return result("invalid", "No matching key: " + e.message, { header });
      }
      return result("error", "Key problem: " + e.message, { header });
    }
    const usage = usageProblem(entry, "verify");
    if (usage) return result("error", "Key problem: " + usage + ".", { header });

    let alg;
    try {
      alg = resolveAlg(entry, opts.alg || null);
    } catch (e) {
      // The key does not name its algorithm (an HMAC secret, an RSA PEM): offer the token's, when
      // it fits the key, as a choice the user makes with one click; the page never takes it alone.
      const fits = e.code === "ERR_ALG_REQUIRED" && Object.prototype.hasOwnProperty.call(ALGS, headerAlg) && !keyAlgProblem(entry, headerAlg);
      return result("error", "Key problem: " + e.message, { header, offerAlg: fits ? headerAlg : null });
    }
    if (!sameAlgorithm(headerAlg, alg)) {
      checks.push(check("alg", "fail", "Algorithm", "token header says " + JSON.stringify(headerAlg.slice(0, 20)) + " but the key is for " + alg));
      checks.push(check("signature", "skip", "Signature", "not checked: the algorithm comes from your key, never from the token"));
      return result("invalid", "Algorithm mismatch: the token says " + JSON.stringify(headerAlg.slice(0, 20)) + " but your key is for " + alg + ". Not valid (this is what algorithm-confusion forgeries look like).", { header });
    }
    checks.push(check("alg", "pass", "Algorithm", alg + " (from " + (opts.alg ? "your choice" : entry.alg ? "the key's alg" : "the key type") + "), matches the header"));
    if (typeof header.kid === "string" && entry.kid && header.kid !== entry.kid && parsed.kind !== "jwks") {
      notes.push("The token's kid " + JSON.stringify(header.kid.slice(0, 60)) + " differs from the key's kid " + JSON.stringify(entry.kid) + ".");
    }
    // The command line refuses a secret shorter than the hash (`gatepass verify` exits 2): here
    // it is a red verdict too, whatever the signature says.
    let weakSecret = null;
    if (entry.kty === "oct") {
      const n = b64urlDecode(entry.jwk.k, "k").length;
      if (n < ALGS[alg].minKey) {
        weakSecret = "this HMAC secret is " + n + " bytes; " + alg + " needs at least " + ALGS[alg].minKey + " (RFC 7518 §3.2). A shorter one can be brute-forced offline from any token it signed: make a new one (Encode → Generate key, or gatepass keygen " + alg + " --out new).";
        checks.push(check("key", "fail", "Key strength", weakSecret));
      }
    }
    if (entry.kty === "RSA" && rsaBits(entry.jwk) < MIN_RSA_BITS) notes.push("This RSA key has only " + rsaBits(entry.jwk) + " bits; use at least " + MIN_RSA_BITS + ".");
    if (entry.isPrivate && entry.kty !== "oct") notes.push("You pasted a private key; verifying needs only the public key (only its public part was used).");

    const spec = ALGS[alg];
    if (spec.sigLen && tok.signature.length !== spec.sigLen) {
      checks.push(check("signature", "fail", "Signature", alg + " signatures are exactly " + spec.sigLen + " bytes; this one is " + tok.signature.length + (tok.signature.length > spec.sigLen && tok.signature[0] === 0x30 ? " (DER-encoded? JWS uses raw r||s)" : "")));
      return result("invalid", "Invalid signature: wrong length for " + alg + ".", { header });
    }
    let cryptoKey;
    try {
      cryptoKey = await importCryptoKey(entry, alg, "verify");
    } catch (e) {
      return result("error", "Key problem: " + e.message, { header });
    }
    let ok = false;
    try {
      ok = await subtle.verify(opParams(alg), cryptoKey, tok.signature, tok.signingInput);
    } catch (_e) {
      ok = false;
    }
    if (!ok) {
      checks.push(check("signature", "fail", "Signature", "does not match: the token was altered, or signed with a different key"));
      checks.push(check("claims", "skip", "Claims", "not checked: the signature is invalid, so the claims mean nothing"));
      return result("invalid", "Invalid signature: the token was altered or signed with a different key.", { header });
    }
    checks.push(check("signature", "pass", "Signature", "valid " + alg + " signature (" + describeKey(entry) + ")"));
    if (weakSecret) {
      return result("invalid", "Weak secret: " + weakSecret + " The signature matches, so anyone who guesses the secret can sign such tokens.", { header });
    }

    const claims = tok.payload;
    if (!claims) {
      checks.push(check("claims", "fail", "Claims", tok.payloadError || "the payload is not a JSON object"));
      return result("invalid", "Signature valid, but the payload is not a JWT claims set.", { header });
    }
    let failed = null;
    const fail = (id, label, detail, summary) => {
      checks.push(check(id, "fail", label, detail));
      if (!failed) failed = summary;
    };
    if (claims.exp === undefined) {
      if (opts.requireExp) fail("exp", "Expiry (exp)", "missing; a token without exp is valid forever", "Invalid: the token has no exp claim.");
      else checks.push(check("exp", "skip", "Expiry (exp)", "missing (not required by your settings)"));
    } else if (!isNumericDate(claims.exp)) {
      fail("exp", "Expiry (exp)", "not a NumericDate: " + JSON.stringify(claims.exp).slice(0, 40), "Invalid: exp is not a number.");
    } else if (now >= claims.exp + leeway) {
      fail("exp", "Expiry (exp)", "expired " + humanDuration(now - claims.exp) + " ago (" + formatDate(claims.exp) + (leeway ? ", leeway " + leeway + " s" : "") + ")", "Expired " + humanDuration(now - claims.exp) + " ago.");
    } else {
      checks.push(check("exp", "pass", "Expiry (exp)", (claims.exp > now ? "expires in " + humanDuration(claims.exp - now) : "expired " + humanDuration(now - claims.exp) + " ago, within the leeway") + " (" + formatDate(claims.exp) + ")"));
    }
    if (claims.nbf !== undefined) {
      if (!isNumericDate(claims.nbf)) {
        fail("nbf", "Not before (nbf)", "not a NumericDate: " + JSON.stringify(claims.nbf).slice(0, 40), "Invalid: nbf is not a number.");
      } else if (now + leeway < claims.nbf) {
        fail("nbf", "Not before (nbf)", "not valid for another " + humanDuration(claims.nbf - now) + " (" + formatDate(claims.nbf) + ")", "Not yet valid: usable in " + humanDuration(claims.nbf - now) + ".");
      } else {
        checks.push(check("nbf", "pass", "Not before (nbf)", "valid since " + formatDate(claims.nbf)));
      }
    }
    if (isNumericDate(claims.iat) && claims.iat > now + leeway) notes.push("iat is in the future (" + formatDate(claims.iat) + "): check the issuer's clock.");
    if (opts.issuer) {
      if (claims.iss === opts.issuer) checks.push(check("iss", "pass", "Issuer (iss)", JSON.stringify(claims.iss)));
      else fail("iss", "Issuer (iss)", "expected " + JSON.stringify(opts.issuer) + ", got " + JSON.stringify(claims.iss === undefined ? null : claims.iss).slice(0, 80), "Invalid issuer.");
    }
    if (opts.audience) {
      const aud = claims.aud;
      const match = typeof aud === "string" ? aud === opts.audience : Array.isArray(aud) && aud.every((a) => typeof a === "string") && aud.includes(opts.audience);
      if (match) checks.push(check("aud", "pass", "Audience (aud)", "includes " + JSON.stringify(opts.audience)));
      else fail("aud", "Audience (aud)", "expected " + JSON.stringify(opts.audience) + ", got " + JSON.stringify(aud === undefined ? null : aud).slice(0, 80), "Invalid audience.");
    }
    if (failed) return result("invalid", "Signature valid, but: " + failed, { header, claims: null });
    return result("valid", "Valid: signature and times check out.", { header, claims });
  }

  /**
   * Sign a JWT. opts: {header, claims (objects), alg, keyText, keyFormat, expiresIn (seconds or
   * null), now}. Returns {token, header, claims, entry, notes}.
   */
  async function sign(opts) {
    const notes = [];
    const alg = opts.alg;
    if (!ALGS[alg]) throw new JoseError("ERR_ALG", "Choose a signing algorithm (\"none\" is not offered on purpose).");
    const parsed = await parseKeyText(opts.keyText || "", opts.keyFormat || "auto");
    if (parsed.entries.length !== 1) {
      throw new JoseError("ERR_KEY", "The JWKS holds " + parsed.entries.length + " keys; paste the one private key to sign with.");
    }
    notes.push(...parsed.notes);
    const entry = parsed.entries[0];
    const usage = usageProblem(entry, "sign");
    if (usage) throw new JoseError("ERR_KEY", "Cannot sign: " + usage + ".");
    resolveAlg(entry, alg);
    if (entry.kty === "oct") {
      const n = b64urlDecode(entry.jwk.k, "k").length;
      if (n < ALGS[alg].minKey) {
        throw new JoseError("ERR_KEY", alg + " needs a secret of at least " + ALGS[alg].minKey + " bytes (RFC 7518 §3.2); this one has " + n + ". Use \"Generate key\" for a random one.");
      }
    } else if (!entry.isPrivate) {
      throw new JoseError("ERR_KEY", "This is a public key; signing needs the private key (PEM \"BEGIN PRIVATE KEY\" or a JWK with \"d\").");
    }
    if (entry.kty === "RSA" && rsaBits(entry.jwk) < MIN_RSA_BITS) {
      throw new JoseError("ERR_KEY", "This RSA key has only " + rsaBits(entry.jwk) + " bits; gatepass requires at least " + MIN_RSA_BITS + ".");
    }
    const cryptoKey = await importCryptoKey(entry, alg, "sign");
    if (opts.header.alg !== undefined && opts.header.alg !== alg) {
      notes.push("Header alg " + JSON.stringify(opts.header.alg) + " replaced by " + alg + ": the key decides the algorithm.");
    }
    const header = Object.assign({ alg }, opts.header); // "alg" first, as most libraries write it
    header.alg = alg;
    if (header.kid === undefined) header.kid = entry.kid || (await thumbprint(entry.jwk));
    for (const name of ["jku", "x5u", "jwk", "x5c"]) {
      if (header[name] !== undefined) notes.push("The header has " + JSON.stringify(name) + ": careful verifiers ignore it, careless ones get forged.");
    }
    const claims = Object.assign({}, opts.claims);
    if (opts.expiresIn !== null && opts.expiresIn !== undefined) {
      const now = opts.now !== undefined && opts.now !== null ? opts.now : nowSeconds();
      claims.iat = now;
      claims.exp = now + opts.expiresIn;
    }
    const signingInput = b64urlEncode(JSON.stringify(header)) + "." + b64urlEncode(JSON.stringify(claims));
    const sig = new Uint8Array(await subtle.sign(opParams(alg), cryptoKey, encoder.encode(signingInput)));
    return { token: signingInput + "." + b64urlEncode(sig), header, claims, entry, notes };
  }

  function orderedJwk(jwk, alg, kid, priv) {
    const out = { kty: jwk.kty };
    if (jwk.crv) out.crv = jwk.crv;
    out.alg = alg;
    out.kid = kid;
    out.use = "sig";
    for (const name of PUBLIC_MEMBERS[jwk.kty]) if (name !== "crv") out[name] = jwk[name];
    if (priv) for (const name of PRIVATE_MEMBERS[jwk.kty]) out[name] = jwk[name];
    return out;
  }

  /** Generate a key in the page. Returns {alg, kid, privateJwk, publicJwk, privatePem, publicPem, secret}. */
  async function generateKey(alg) {
    const spec = ALGS[alg];
    if (!spec) throw new JoseError("ERR_ALG", "Unsupported algorithm " + alg + ".");
    if (spec.kty === "oct") {
      const secret = global.crypto.getRandomValues(new Uint8Array(spec.minKey));
      const k = b64urlEncode(secret);
      const kid = await thumbprint({ kty: "oct", k });
      return { alg, kid, secret: k, privateJwk: orderedJwk({ kty: "oct", k }, alg, kid, true), publicJwk: null, privatePem: null, publicPem: null };
    }
    if (spec.kty === "OKP" && !(await ed25519Supported())) {
      throw new JoseError("ERR_UNSUPPORTED", "This browser's WebCrypto does not support Ed25519.");
    }
    let params;
    if (spec.kty === "RSA") params = { name: spec.name, hash: spec.hash, modulusLength: 2048, publicExponent: Uint8Array.of(1, 0, 1) };
    else if (spec.kty === "EC") params = { name: "ECDSA", namedCurve: spec.crv };
    else params = { name: "Ed25519" };
    const pair = await subtle.generateKey(params, true, ["sign", "verify"]);
    const priv = await subtle.exportKey("jwk", pair.privateKey);
    const kid = await thumbprint(priv);
    return {
      alg,
      kid,
      secret: null,
      privateJwk: orderedJwk(priv, alg, kid, true),
      publicJwk: orderedJwk(priv, alg, kid, false),
      privatePem: toPem("PRIVATE KEY", new Uint8Array(await subtle.exportKey("pkcs8", pair.privateKey))),
      publicPem: toPem("PUBLIC KEY", new Uint8Array(await subtle.exportKey("spki", pair.publicKey))),
    };
  }

  /** Public JWK (with alg and kid) for a private entry, to hand to the verifier. */
  async function publicJwkFor(entry, alg) {
    const kid = entry.kid || (await thumbprint(entry.jwk));
    return orderedJwk(publicJwk(entry.jwk), alg, kid, false);
  }

  global.GPJose = {
    ALGS,
    ALG_NAMES,
    MAX_VERIFY_SIZE,
    JoseError,
    b64urlDecode,
    b64urlEncode,
    parseToken,
    parseKeyText,
    resolveAlg,
    verify,
    sign,
    generateKey,
    publicJwkFor,
    thumbprint,
    describeTime,
    humanDuration,
    formatDate,
    parseDuration,
    isNumericDate,
    ed25519Supported,
    nowSeconds,
    available: Boolean(subtle),
  };
})(window);
