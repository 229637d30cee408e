/**
 * gatepass.js: the browser client of gatepass's hybrid design, served at <prefix>/gatepass.js.
 * An ES module with no dependencies and no build step. Guide, reference and threat model:
 * docs/gatepass-js.md.
 *
 *   import { Gatepass } from "/auth/gatepass.js";
 *   const gp = new Gatepass();                        // { prefix: "/auth" } by default
 *   await gp.login("alice", "correct horse battery staple");
 *   const res = await gp.fetch("/me");                // adds Authorization: Bearer <token>
 *
 * The access token lives in a private field of this object and nowhere else (no storage, no
 * cookie); the refresh token never reaches this code (an HttpOnly cookie for <prefix>/refresh).
 * Refreshes are lazy: before a request whose token expires within the margin, or after a 401
 * (then the request is retried once); no timer, so idle pages do not outlive the idle timeout.
 * A refresh answered 401 means logged out; 503 or no network means try later, still logged in.
 *
 * `new Gatepass({ dpop: true })` binds the tokens to a key this browser cannot export (DPoP,
 * RFC 9449; gatepass-dpop.js): login and refresh carry a proof of the key, the server binds the
 * access token and the refresh family to it, and every request with the token carries a fresh
 * proof. A token or refresh cookie copied out of the page is then refused anywhere else.
 *
 * One login, refresh or logout at a time across all tabs of the origin (the Web Lock
 * "gatepass-refresh"), new tokens shared over BroadcastChannel("gatepass"): gatepass-tabs.js.
 * Without Web Locks (no secure context) tabs refresh on their own and the server's grace window
 * keeps them from tripping reuse detection.
 */

import { Tabs } from "./gatepass-tabs.js";
import { DPoPKey } from "./gatepass-dpop.js";

const LOCK = "gatepass-refresh";
const CHANNEL = "gatepass";
const REFRESH_TIMEOUT_MS = 30_000; // a refresh that hangs must not hold the lock of every tab
// A refresh refused for these (RFC 9449 7.1, OAuth's token endpoint): trying again cannot help.
const DEAD_ENDS = new Set(["invalid_dpop_proof", "invalid_token", "invalid_grant"]);
// origin -> the latest DPoP-Nonce its server gave: shared by every Gatepass object of the page.
const nonces = new Map();
// How far this browser's clock is behind the server's, in ms (0 while within the tolerance): a
// proof's iat is judged by the server's clock, which allows it a few seconds of lead at most.
let skew = 0;
const SKEW_TOLERANCE_MS = 3000;

/** A refusal from a gatepass endpoint: the RFC 9457 problem document the server sent. */
export class GatepassError extends Error {
  constructor(status, problem = {}, retryAfter = null) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = "GatepassError";
    this.status = status; // 401, 403, 503 ...
    this.code = problem.code || null; // the stable code, e.g. "ERR_STORE_UNAVAILABLE"
    this.problem = problem;
    this.retryAfter = retryAfter; // seconds (503), or null
  }

  /** The refusal as a Response again (each caller that shared a refresh gets its own). */
  toResponse() {
    const headers = { "Content-Type": "application/problem+json" };
    if (this.retryAfter !== null) headers["Retry-After"] = String(this.retryAfter);
    return new Response(JSON.stringify(this.problem), { status: this.status, headers });
  }

  static async from(response) {
    const problem = await readJson(response);
    const retry = Number.parseInt(response.headers.get("Retry-After") || "", 10);
    return new GatepassError(response.status, problem, Number.isNaN(retry) ? null : retry);
  }
}

async function readJson(response) {
  try {
    const value = await response.json();
    return value && typeof value === "object" ? value : {};
  } catch {
    return {};
  }
}

/** The claims of a JWT, decoded for display only: the server verifies, this never trusts. */
function claimsOf(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part), (ch) => ch.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === "object" ? claims : {};
  } catch {
    return {};
  }
}

/** A 401 that a new access token could cure: not "log in again" (RFC 9470), nor a nonce. */
function worthRefreshing(response) {
  const challenge = response.headers.get("WWW-Authenticate") || "";
  return !challenge.includes("insufficient_user_authentication") && !challenge.includes("use_dpop_nonce");
}

/**
 * Follow the server's clock (its Date header) when this browser's is off by more than the
 * tolerance; true when the estimate changed. Date has whole seconds: the middle of that second.
 */
function followClock(response) {
  const served = Date.parse(response.headers.get("Date") || "");
  if (!Number.isFinite(served)) return false;
  const offset = served + 500 - Date.now();
  const next = Math.abs(offset) > SKEW_TOLERANCE_MS ? offset : 0;
  if (Math.abs(next - skew) <= SKEW_TOLERANCE_MS) return false;
  skew = next;
  return true;
}

/** The server wants a proof with its nonce (RFC 9449 8, 9): 401 for an API, 400 at login. */
function asksForNonce(response) {
  if (response.status !== 401 && response.status !== 400) return false;
  const challenge = response.headers.get("WWW-Authenticate") || "";
  return challenge.includes("use_dpop_nonce") && response.headers.has("DPoP-Nonce");
}

export class Gatepass extends EventTarget {
  // Everything private: page scripts (and so injected ones) cannot read these fields.
  #prefix;
  #margin; // ms before expiry at which a request refreshes first
  #origins; // origins whose requests get the token: this page's own, plus any listed
  #tabs; // one login, refresh or logout at a time across tabs; tokens shared between them
  #token = null; // the access token: here and nowhere else
  #expiresAt = null; // ms epoch, by this browser's clock (from expires_in: skew-proof)
  #lifetime = 0; // ms the current token was issued for
  #claims = null;
  #csrf = null; // the last csrf_token a response carried, sent as X-CSRF-Token
  #state = "unknown"; // "unknown" until a login or refresh tells, then "in" or "out"
  #pending = null; // this tab's refresh in flight, shared by every caller that needs one
  #dpop = null; // a promise of this profile's DPoPKey, when DPoP is on
  #scheme = "Bearer"; // how the token travels: "DPoP" once the server bound it to the key

  /**
   * prefix: where the gatepass endpoints live. refreshMargin: seconds before expiry at which
   * a request refreshes first (at most half the token's lifetime). origins: other origins
   * (e.g. "https://api.example") that may receive the access token; by default only this
   * page's own origin does, so a fetch to a third party never leaks it. dpop: bind the tokens
   * to this browser's non-extractable key (the server must accept DPoP).
   */
  constructor({ prefix = "/auth", refreshMargin = 30, origins = [], dpop = false } = {}) {
    super();
    if (typeof prefix !== "string" || !prefix.startsWith("/") || prefix.endsWith("/")) {
      throw new TypeError("prefix must start with '/' and not end with one, e.g. '/auth'");
    }
    this.#prefix = prefix;
    this.#margin = Math.max(0, Number(refreshMargin) || 0) * 1000;
    this.#origins = new Set([location.origin, ...origins.map((o) => new URL(o).origin)]);
    if (dpop) {
      this.#dpop = DPoPKey.load(); // made once per browser profile, then found again
      this.#dpop.catch(() => {}); // a failure surfaces where a proof is needed, not as unhandled
    }
    // Another prefix is another login (another refresh cookie): it gets a lock of its own.
    const suffix = prefix === "/auth" ? "" : ` ${prefix}`;
    this.#tabs = new Tabs(LOCK + suffix, CHANNEL + suffix, (message) => this.#heard(message));
  }

  /** `{user_id, session_id, scopes, claims}` of the current token, or null. */
  get user() {
    const claims = this.#claims;
    if (this.#token === null || claims === null) return null;
    return {
      user_id: claims.sub ?? null,
      session_id: claims.sid ?? null,
      scopes: typeof claims.scope === "string" ? claims.scope.split(" ").filter(Boolean) : [],
      claims: { ...claims },
    };
  }

  /** When the access token expires (ms epoch, this browser's clock), or null. */
  get expiresAt() {
    return this.#token === null ? null : this.#expiresAt;
  }

  /** The raw access token, for the tools page's "inspect" link. Never store it. */
  debugToken() {
    return this.#token;
  }

  /** The thumbprint (cnf.jkt) of this browser's DPoP key, or null without DPoP. */
  async dpopThumbprint() {
    return this.#dpop === null ? null : (await this.#dpop).thumbprint;
  }

  // --- the API --------------------------------------------------------------------------------

  /** Log in with the hybrid: the server sets the refresh cookie, the token stays here. */
  async login(username, password, { remember = false } = {}) {
    await this.#tabs.locked(async () => {
      const response = await this.#post("/login", {
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username, password, design: "hybrid", remember }),
      });
      if (!response.ok) throw await GatepassError.from(response);
      this.#adopt(await readJson(response));
      await this.#share("login");
    });
    this.#emit("login");
    return this.user;
  }

  /**
   * Like `fetch()`, with `Authorization: Bearer <token>` added to requests for this origin
   * (and the listed ones). Refreshes first when the token is about to expire, or after a 401,
   * and then retries the request once. A request that names its own Authorization is sent
   * as it is.
   */
  async fetch(input, init = undefined) {
    const request = new Request(input, init);
    if (!this.#origins.has(new URL(request.url).origin) || request.headers.has("Authorization")) {
      return fetch(request);
    }
    if (this.#state === "unknown" || (this.#state === "in" && this.#expiring())) {
      await this.#refreshQuietly(); // a reloaded page resumes its login here
    }
    const sent = this.#token;
    const response = await this.#send(request, sent);
    if (response.status !== 401 || sent === null || !worthRefreshing(response)) {
      return response;
    }
    // The token was refused before its time (revoked, key rotated): a new one, then once more.
    let outcome;
    try {
      outcome = await this.#refresh(sent);
    } catch (error) {
      // "Try later" (the store is down) is the honest answer here, not "log in again".
      return error instanceof GatepassError && error.status === 503 ? error.toResponse() : response;
    }
    return outcome === "out" || this.#token === null ? response : this.#send(request, this.#token);
  }

  /**
   * A new access token now (normally automatic). Resolves to the user, or to null when the
   * login is over; rejects with a GatepassError (status 503: try later) or a network error.
   */
  async refresh() {
    await this.#refresh(this.#token);
    return this.user;
  }

  /** End this login (every tab of this origin forgets the token). */
  async logout() {
    await this.#goodbye("/logout");
  }

  /** End every login of the user, on every device ("log out everywhere"). */
  async logoutAll() {
    await this.#goodbye("/logout-all");
  }

  /** "Your devices": every live login of the user, the current one marked `current`. */
  async sessions() {
    const response = await this.fetch(this.#url("/sessions"), { cache: "no-store" });
    if (!response.ok) throw await GatepassError.from(response);
    const body = await readJson(response);
    return Array.isArray(body.sessions) ? body.sessions : [];
  }

  /** Revoke one login by its id (from `sessions()`); revoking this one logs out here. */
  async revoke(id) {
    const url = this.#url(`/sessions/${encodeURIComponent(id)}`);
    const response = await this.fetch(url, { method: "DELETE" });
    if (!response.ok) throw await GatepassError.from(response);
    if (id === this.user?.session_id) this.#loggedOut("revoked", {});
  }

  // --- refreshing -----------------------------------------------------------------------------

  #expiring() {
    if (this.#token === null) return true;
    const margin = Math.min(this.#margin, this.#lifetime / 2);
    return Date.now() >= this.#expiresAt - margin;
  }

  /** Refresh, or take the token another tab just got. `stale`: the token the caller had. */
  #refresh(stale) {
    if (this.#pending === null) {
      this.#pending = this.#acrossTabs(stale).finally(() => {
        this.#pending = null;
      });
    }
    return this.#pending;
  }

  async #refreshQuietly() {
    try {
      await this.#refresh(this.#token);
    } catch {
      // "failure" has been announced; the request goes out with what this tab has.
    }
  }

  #acrossTabs(stale) {
    return this.#tabs.afterOthers(() => {
      // While this tab waited for its turn, another may have got a token and sent it here.
      if (this.#token !== null && this.#token !== stale && !this.#expiring()) return "shared";
      return this.#rotate();
    });
  }

  /** POST <prefix>/refresh: the browser sends the refresh cookie, the server rotates it. */
  async #rotate() {
    let response;
    try {
      response = await this.#post("/refresh", { signal: AbortSignal.timeout(REFRESH_TIMEOUT_MS) });
    } catch (error) {
      this.#emit("failure", { error });
      throw error;
    }
    if (response.ok) {
      this.#adopt(await readJson(response));
      await this.#share("token");
      this.#emit("refresh");
      return "refreshed";
    }
    const error = await GatepassError.from(response);
    // 401, or 400 for a refresh cookie bound to a key whose proof did not come: over either way.
    if (response.status === 401 || (response.status === 400 && DEAD_ENDS.has(error.problem.error))) {
      this.#loggedOut("refresh refused", {});
      return "out";
    }
    // 503 (the store is down) and anything unexpected: not logged out, try later.
    this.#emit("failure", { error });
    throw error;
  }

  // --- logging out ----------------------------------------------------------------------------

  async #goodbye(path) {
    // The server finds the login to end through the access token (the refresh cookie only
    // ever goes to the refresh endpoint), so make sure the token is current first.
    if (this.#state !== "out" && this.#expiring()) await this.#refreshQuietly();
    await this.#tabs.locked(async () => {
      const response = await this.#post(path, {}, this.#token);
      // A 503 leaves the login alive on the server, so it stays alive here too.
      if (!response.ok) throw await GatepassError.from(response);
      this.#loggedOut(path.slice(1), { everywhere: path === "/logout-all" });
    });
  }

  /**
   * Forget the token. `tell`: other tabs forget this login too ({everywhere: true}: every
   * login of this user). The message names the login, so a tab that has logged in anew
   * meanwhile keeps its new login.
   */
  #loggedOut(reason, tell = null) {
    const was = this.#state;
    const user = this.user;
    if (tell !== null && user !== null) {
      const everyone = tell.everywhere ? user.user_id : null;
      this.#tabs.tell({ type: "logout", sid: user.session_id, user: everyone });
    }
    this.#token = this.#claims = this.#expiresAt = null;
    this.#state = "out";
    if (was !== "out") this.#emit("logout", { reason });
  }

  // --- the token, and the other tabs ----------------------------------------------------------

  #adopt(body) {
    if (typeof body.access_token !== "string") throw new GatepassError(500, body);
    const lifetime = Math.max(0, Number(body.expires_in) || 0) * 1000;
    const scheme = body.token_type === "DPoP" ? "DPoP" : "Bearer";
    this.#set(body.access_token, Date.now() + lifetime, lifetime, body.csrf_token, scheme);
  }

  #set(token, expiresAt, lifetime, csrf, scheme) {
    this.#token = token;
    this.#scheme = scheme === "DPoP" ? "DPoP" : "Bearer";
    this.#expiresAt = expiresAt;
    this.#lifetime = lifetime;
    this.#claims = claimsOf(token);
    if (typeof csrf === "string") this.#csrf = csrf;
    this.#state = "in";
  }

  /** Send the new token to the other tabs (inside a task of #tabs, before its lock goes). */
  #share(type) {
    return this.#tabs.share({
      type,
      token: this.#token,
      expiresAt: this.#expiresAt,
      lifetime: this.#lifetime,
      csrf: this.#csrf,
      scheme: this.#scheme,
    });
  }

  /** A message from another tab of this origin (or another Gatepass object in this one). */
  #heard(message) {
    const user = this.user;
    if (message.type === "logout") {
      const mine =
        user !== null &&
        (message.sid === user.session_id || (message.user !== null && message.user === user.user_id));
      if (mine) this.#loggedOut("logged out in another tab");
      return;
    }
    if (message.type !== "token" && message.type !== "login") return;
    if (typeof message.token !== "string" || message.token === this.#token) return;
    if (this.#state !== "in" || message.expiresAt >= this.#expiresAt) {
      this.#set(message.token, message.expiresAt, message.lifetime, message.csrf, message.scheme);
      this.#emit(message.type === "login" ? "login" : "refresh", { from: "another tab" });
    }
  }

  // --- small things ---------------------------------------------------------------------------

  #emit(type, extra = {}) {
    this.dispatchEvent(new CustomEvent("change", { detail: { type, user: this.user, ...extra } }));
  }

  #url(path) {
    return this.#prefix + path;
  }

  /**
   * POST to a gatepass endpoint, with the last CSRF token (for browsers without fetch metadata)
   * and this site's cookies; with DPoP, a proof of the key (carrying `token`'s hash when one
   * travels), and once more with the server's nonce when it asks for one.
   */
  async #post(path, { headers = {}, ...init }, token = null) {
    const url = new URL(this.#url(path), location.href).href;
    const csrf = this.#csrf === null ? {} : { "X-CSRF-Token": this.#csrf };
    const bound = token !== null && this.#scheme === "DPoP";
    const auth = token === null ? {} : { Authorization: `${this.#scheme} ${token}` };
    for (let attempt = 0; ; attempt++) {
      const proof = this.#dpop !== null && (token === null || bound) ? await this.#proof("POST", url, token) : {};
      const response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        cache: "no-store",
        headers: { ...csrf, ...auth, ...proof, ...headers },
        ...init,
      });
      if (!this.#learn(response, url) || attempt > 0) return response;
    }
  }

  /** `request` with the token (and, for a bound token, a proof), sent; once more for a nonce. */
  async #send(request, token) {
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(await this.#withToken(request.clone(), token));
      if (!this.#learn(response, request.url) || attempt > 0 || token === null) return response;
    }
  }

  async #withToken(request, token) {
    if (token === null) return request;
    const headers = new Headers(request.headers);
    headers.set("Authorization", `${this.#scheme} ${token}`);
    if (this.#scheme === "DPoP") {
      const { DPoP } = await this.#proof(request.method, request.url, token);
      headers.set("DPoP", DPoP);
    }
    return new Request(request, { headers });
  }

  /** `{DPoP: proof}` for one request, with the nonce last heard from that origin. A token bound
   * by another Gatepass object of this profile (another tab) is signed for with the same key. */
  async #proof(method, url, token) {
    this.#dpop ??= DPoPKey.load();
    const key = await this.#dpop;
    const nonce = nonces.get(new URL(url).origin) ?? null;
    return { DPoP: await key.proof(method, url, { accessToken: token, nonce, skewMs: skew }) };
  }

  /**
   * What an answer teaches: the server's latest nonce, and its clock. True when the request is
   * worth sending once more: the server asked for a nonce, or refused the proof just when this
   * browser's clock turned out to be off (the next proof is dated by the server's clock).
   */
  #learn(response, url) {
    const nonce = response.headers.get("DPoP-Nonce");
    if (nonce !== null) nonces.set(new URL(url).origin, nonce);
    if (this.#dpop === null) return false;
    const clockMoved = followClock(response);
    if (asksForNonce(response)) return true;
    const challenge = response.headers.get("WWW-Authenticate") || "";
    const refused = response.status === 400 || response.status === 401;
    return clockMoved && refused && challenge.includes("invalid_dpop_proof");
  }
}
