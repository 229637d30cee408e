/* The live panel: one credential of every design for one user, each checked once a second.
 * Log in here, then end the logins elsewhere (log out everywhere on another device, or freeze
 * the account as admin) and watch each row do what its design promises. */
import { Gatepass } from "/auth/gatepass.js";
import { $, claimsOf, clock, formValues, minutes, postJson, probe, show, showError } from "/static/common.js";

const gp = new Gatepass({ prefix: "/auth" });
const PROMISES = {
  replicated: "refused once the revocation reaches this server (pushed, no lookup per request)",
  denylist: "refused at its next request (one store read per request)",
  stateless: "valid until its exp: it cannot be revoked",
};
let api = null; // {token, exp}
let partner = null;
let timer = null;
let refreshing = false;
let ticking = false;
let access = null; // the last access token gatepass.js held: probed even after it drops it

function row(name) {
  return document.querySelector(`#live-table tr[data-row="${name}"]`);
}

/** Set one row's status; the first refusal is remembered with its time. */
function mark(name, valid, text) {
  const tr = row(name);
  const cell = tr.querySelector(".status");
  if (valid) {
    tr.dataset.state = "valid";
    cell.dataset.state = "valid";
    cell.textContent = text;
    delete tr.dataset.goneAt;
    return false;
  }
  const first = tr.dataset.state !== "gone";
  if (first) tr.dataset.goneAt = `${clock(Date.now())}.${String(Date.now() % 1000).padStart(3, "0")}`;
  tr.dataset.state = "gone";
  cell.dataset.state = "gone";
  cell.textContent = `${text} · since ${tr.dataset.goneAt}`;
  return first;
}

function left(exp) {
  return `${minutes(exp - Date.now() / 1000)} left`;
}

async function checkRefresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    // Resolves to the user, or to null when the server refused the refresh token.
    const user = await gp.refresh();
    mark("refresh", Boolean(user), user ? `rotated at ${clock(Date.now())}` : "refused");
  } catch (error) {
    // 503 or the network: not an answer about the login, so the row keeps its state.
    showError($("live-error"), error);
  } finally {
    refreshing = false;
  }
}

async function tick() {
  if (ticking) return; // a slow round must not overlap the next one
  ticking = true;
  try {
    await checkAll();
  } finally {
    ticking = false;
  }
}

async function checkAll() {
  let newlyGone = false;
  const session = await probe("/api/whoami");
  newlyGone = mark("session", session.ok, session.ok ? "valid" : "gone") || newlyGone;

  // The hybrid's access token is judged on its own: after a refused refresh gatepass.js forgets
  // it, but whether the API still accepts it is what the revocation mode decides.
  access = gp.debugToken() || access;
  const result = await probe("/api/whoami", access);
  const accessText = result.ok ? `valid · ${left(claimsOf(access).exp)}` : `refused (${result.code})`;
  newlyGone = mark("access", result.ok, accessText) || newlyGone;

  const apiResult = await probe("/api/whoami", api.token);
  newlyGone = mark("api", apiResult.ok, apiResult.ok ? `valid · ${left(api.exp)}` : `refused (${apiResult.code})`) || newlyGone;

  const partnerResult = await probe("/partner/whoami", partner.token);
  const exp = `exp ${clock(partner.exp * 1000)}`;
  mark("partner", partnerResult.ok, partnerResult.ok ? `valid · ${left(partner.exp)} (${exp})` : `expired at its ${exp}`);

  if (newlyGone && row("refresh").dataset.state !== "gone") await checkRefresh();
}

async function loginEveryWay(username, password) {
  // Token designs first: a login request that carries a session cookie ends that session
  // (session fixation defence), so the cookie session is made last.
  await gp.login(username, password);
  access = gp.debugToken();
  const bearer = await postJson("/auth/login", { username, password, design: "bearer" });
  api = { token: bearer.access_token, exp: claimsOf(bearer.access_token).exp };
  const stateless = await postJson("/api/partner-token", {}, { authorization: `Bearer ${api.token}` });
  partner = { token: stateless.access_token, exp: stateless.expires_at };
  await postJson("/auth/login", { username, password, design: "session" });
}

async function start() {
  const config = await (await fetch("/api/config")).json();
  for (const node of document.querySelectorAll("#live-table [data-mode]")) node.textContent = config.revocation;
  for (const node of document.querySelectorAll("#live-table [data-promise]")) node.textContent = PROMISES[config.revocation];
  $("live-login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    showError($("live-error"), null);
    const { username, password } = formValues(event.target);
    try {
      await loginEveryWay(username, password);
    } catch (error) {
      showError($("live-error"), error);
      return;
    }
    event.target.reset();
    $("live-user").textContent = `for ${username}`;
    mark("refresh", true, "valid (not tried yet)");
    show($("live-login"), false);
    show($("live-panel"), true);
    await tick();
    clearInterval(timer);
    timer = setInterval(tick, 1000);
    document.body.dataset.state = "watching";
  });
  $("live-check-refresh").addEventListener("click", checkRefresh);
  $("live-logout-all").addEventListener("click", async () => {
    try {
      await gp.logoutAll();
    } catch (error) {
      showError($("live-error"), error);
    }
    await tick();
  });
  document.body.dataset.ready = "true";
}

start();
