/* The DPoP area: the single-page app's hybrid with both tokens bound to this browser's key
 * (new Gatepass({ dpop: true })), and a button that has the server try the page's token from
 * elsewhere, without the key. Its endpoints live under /dpop/auth, so its refresh cookie, Web
 * Lock and BroadcastChannel are not the single-page app's: both areas can be logged in at once. */
import { Gatepass } from "/dpop/auth/gatepass.js";
import { $, el, clear, guard as guardWith, clock, formValues, jsonOf, minutes, show, startHybrid, whoami } from "/static/common.js";

const gp = new Gatepass({ prefix: "/dpop/auth", dpop: true });
const guard = (action) => guardWith($("dpop-error"), action);

function showLogin() {
  show($("dpop-app"), false);
  show($("dpop-login"), true);
  document.body.dataset.state = "logged-out";
}

const callWhoami = () => whoami(gp, $("dpop-whoami"), showLogin);

async function showApp() {
  const me = await callWhoami();
  if (!me) return;
  $("dpop-user").textContent = me.user_id;
  $("dpop-key").textContent = await gp.dpopThumbprint();
  const cnf = gp.user?.claims.cnf;
  $("dpop-bound").textContent = cnf?.jkt ? `key ${cnf.jkt}` : "nothing: a bearer token";
  show($("dpop-login"), false);
  show($("dpop-app"), true);
  tick();
  document.body.dataset.state = "logged-in";
}

/** The server tries the copy three ways; each row says what it answered. */
async function replay() {
  const init = {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ access_token: gp.debugToken() }),
  };
  const { attempts } = await jsonOf(await gp.fetch("/api/replay-elsewhere", init));
  const tbody = $("dpop-attempts").tBodies[0];
  clear(tbody);
  for (const attempt of attempts) {
    const row = el("tr");
    row.dataset.status = String(attempt.status);
    row.append(
      el("td", attempt.attempt),
      el("td", `${attempt.status}${attempt.code ? ` ${attempt.code}` : ""}`, attempt.status === 200 ? "good" : "bad"),
      el("td", attempt.www_authenticate || "-"),
    );
    tbody.append(row);
  }
  document.body.dataset.replayed = String(attempts.length);
}

function tick() {
  const at = gp.expiresAt;
  $("dpop-expires").textContent = at ? `at ${clock(at)}, in ${minutes((at - Date.now()) / 1000)}` : "-";
}

async function start() {
  gp.addEventListener("change", () => {
    if (!gp.user && document.body.dataset.state === "logged-in") showLogin();
  });
  $("dpop-login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    guard(async () => {
      const { username, password } = formValues(event.target);
      await gp.login(username, password);
      event.target.reset();
      await showApp();
    });
  });
  $("dpop-call").addEventListener("click", () => guard(callWhoami));
  $("dpop-refresh").addEventListener("click", () => guard(async () => {
    await gp.refresh();
    await showApp();
  }));
  $("dpop-replay").addEventListener("click", () => guard(replay));
  // After a reload the refresh cookie still works: it is bound to the key IndexedDB kept.
  await startHybrid(gp, "dpop", { guard, showApp, showLogin, tick });
}

start();
