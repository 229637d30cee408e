/**
 * gatepass-dpop.js: DPoP proofs (RFC 9449) for gatepass.js, served beside it. An ES module with
 * no dependencies. Guide and threat model: docs/gatepass-js.md ("Binding tokens to this browser").
 *
 * One ECDSA P-256 key pair per browser profile and origin, made by WebCrypto with
 * extractable: false and kept in IndexedDB: scripts of the page (an injected one included) can
 * ask the browser to sign with it, but no script can read the private key, so a token bound to it
 * is worth nothing anywhere else. The key is made once and found again after a reload, in every
 * tab; a refresh family bound to it therefore survives reloads.
 *
 *   const key = await DPoPKey.load();
 *   const proof = await key.proof("GET", "https://api.example/orders", { accessToken, nonce });
 */

const DATABASE = "gatepass-dpop";
const STORE = "keys";
const NAME = "ES256"; // one key per algorithm; gatepass.js signs ES256 only
const ALGORITHM = { name: "ECDSA", namedCurve: "P-256" };
const SIGN = { name: "ECDSA", hash: "SHA-256" };

const encoder = new TextEncoder();

function b64url(bytes) {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const b64json = (value) => b64url(encoder.encode(JSON.stringify(value)));

/** base64url(SHA-256(token)): the proof's ath, binding it to the token it travels with. */
export async function accessTokenHash(token) {
  return b64url(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(token))));
}

/** The URL a proof names (htu): the request URL without its query and fragment (RFC 9449 4.2). */
export function htuOf(url) {
  const parsed = new URL(url, location.href);
  return parsed.origin + parsed.pathname;
}

function request(idbRequest) {
  return new Promise((resolve, reject) => {
    idbRequest.onsuccess = () => resolve(idbRequest.result);
    idbRequest.onerror = () => reject(idbRequest.error);
  });
}

function openDatabase() {
  const opening = indexedDB.open(DATABASE, 1);
  opening.onupgradeneeded = () => opening.result.createObjectStore(STORE);
  return request(opening);
}

/** A stored value this module can sign with: a P-256 ECDSA pair whose private key stays put. */
function usable(pair) {
  const key = pair?.privateKey;
  return (
    key instanceof CryptoKey &&
    pair.publicKey instanceof CryptoKey &&
    key.algorithm.name === "ECDSA" &&
    key.algorithm.namedCurve === "P-256" &&
    !key.extractable
  );
}

/**
 * The profile's key pair: the stored one, or a new one stored unless another tab stored its own
 * first (add() refuses a second key under the name; then the first one is read and used), so
 * every tab of the origin signs with the same key.
 */
async function storedPair() {
  const db = await openDatabase();
  try {
    const found = await request(db.transaction(STORE).objectStore(STORE).get(NAME));
    if (usable(found)) return found;
    const made = await crypto.subtle.generateKey(ALGORITHM, false, ["sign", "verify"]);
    const store = db.transaction(STORE, "readwrite").objectStore(STORE);
    try {
      // Something unusable under the name (another script's, a damaged entry) is replaced.
      await request(found === undefined ? store.add(made, NAME) : store.put(made, NAME));
      return made;
    } catch (error) {
      if (error?.name !== "ConstraintError") throw error;
      return await request(db.transaction(STORE).objectStore(STORE).get(NAME));
    }
  } finally {
    db.close();
  }
}

export class DPoPKey {
  #privateKey;
  #header; // the proof header: typ, alg and the public key (never a private member)
  #thumbprint;
  #kept;

  constructor(pair, jwk, thumbprint, kept) {
    this.#privateKey = pair.privateKey;
    this.#header = { typ: "dpop+jwt", alg: "ES256", jwk };
    this.#thumbprint = thumbprint;
    this.#kept = kept;
  }

  /**
   * The profile's key, made on first use. Without IndexedDB (some private modes) the key lives
   * in this page only: proofs still work, but a reload makes a new key, and a refresh family
   * bound to the old one is then refused (the user logs in again).
   */
  static async load() {
    if (!globalThis.crypto?.subtle) {
      throw new Error("DPoP needs WebCrypto, which browsers offer in secure contexts only (https, or http on localhost)");
    }
    let pair;
    let kept = true;
    try {
      pair = await storedPair();
    } catch {
      pair = await crypto.subtle.generateKey(ALGORITHM, false, ["sign", "verify"]);
      kept = false;
    }
    const { crv, x, y } = await crypto.subtle.exportKey("jwk", pair.publicKey);
    const jwk = { kty: "EC", crv, x, y };
    // RFC 7638: the required members in lexicographic order, no spaces.
    const canonical = JSON.stringify({ crv, kty: "EC", x, y });
    const digest = await crypto.subtle.digest("SHA-256", encoder.encode(canonical));
    return new DPoPKey(pair, jwk, b64url(new Uint8Array(digest)), kept);
  }

  /** False when IndexedDB refused to keep the key: it lasts as long as this page. */
  get kept() {
    return this.#kept;
  }

  /** The key's RFC 7638 thumbprint: what a token bound to it carries as cnf.jkt. */
  get thumbprint() {
    return this.#thumbprint;
  }

  /**
   * A fresh proof for one request: method, absolute or page-relative URL, and what travels.
   * skewMs: how far this browser's clock is behind the server's (its iat is read by that one).
   */
  async proof(method, url, { accessToken = null, nonce = null, skewMs = 0 } = {}) {
    const claims = {
      jti: b64url(crypto.getRandomValues(new Uint8Array(16))),
      htm: method, // exactly as fetch sends it (it upper-cases only the standard methods)
      htu: htuOf(url),
      iat: Math.floor((Date.now() + skewMs) / 1000),
    };
    if (accessToken !== null) claims.ath = await accessTokenHash(accessToken);
    if (nonce !== null) claims.nonce = nonce;
    const input = b64json(this.#header) + "." + b64json(claims);
    const signature = await crypto.subtle.sign(SIGN, this.#privateKey, encoder.encode(input));
    return input + "." + b64url(new Uint8Array(signature));
  }
}
