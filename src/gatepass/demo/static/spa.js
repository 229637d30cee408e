/* The single-page area: a client of the hybrid, written against gatepass.js alone.
 * The access token never leaves gatepass.js's memory except through debugToken(), used for the
 * "open in the tools page" button; the refresh token is an HttpOnly cookie no script can read. */
import { Gatepass } from "/auth/gatepass.js";
import {
  $, guard as guardWith, clock, formValues, jsonOf, minutes, renderAccounts, renderDevices, show, startHybrid, whoami,
} from "/static/common.js";

const gp = new Gatepass({ prefix: "/auth" });
let me = null;

const MODES = {
  replicated: "replicated: refused as soon as a revocation reaches this server, no lookup per request",
  denylist: "denylist: refused at its next request, one store read per request",
  stateless: "stateless: valid until its exp, whatever happens",
};

const guard = (action) => guardWith($("spa-error"), action);

function showLogin() {
  me = null;
  show($("spa-app"), false);
  show($("spa-login"), true);
  document.body.dataset.state = "logged-out";
}

async function loadDevices() {
  const entries = await gp.sessions();
  renderDevices($("spa-devices").tBodies[0], entries, (entry) =>
    guard(async () => {
      await gp.revoke(entry.id);
      await showApp();
    }),
  );
}

async function loadAccounts() {
  const response = await gp.fetch("/api/admin/users");
  const { users } = await jsonOf(response);
  renderAccounts($("spa-users").tBodies[0], users, me.user_id, (action, userId) =>
    guard(async () => {
      const init = {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ user_id: userId }),
      };
      await jsonOf(await gp.fetch(`/api/admin/${action}`, init));
      await loadAccounts();
      await loadDevices();
    }),
  );
}

const callWhoami = () => whoami(gp, $("spa-whoami"), showLogin);

async function showApp() {
  me = await callWhoami();
  if (!me) return;
  $("spa-user").textContent = me.user_id;
  show($("spa-login"), false);
  show($("spa-app"), true);
  show($("spa-admin"), me.admin);
  await loadDevices();
  if (me.admin) await loadAccounts();
  tick();
  document.body.dataset.state = "logged-in";
}

function tick() {
  const at = gp.expiresAt;
  $("spa-expires").textContent = at ? `at ${clock(at)}, in ${minutes((at - Date.now()) / 1000)}` : "-";
}

async function start() {
  const config = await jsonOf(await fetch("/api/config"));
  $("spa-mode").textContent = MODES[config.revocation] || config.revocation;
  gp.addEventListener("change", () => {
    if (!gp.user && me) showLogin();
  });
  $("spa-login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    guard(async () => {
      const { username, password, remember } = formValues(event.target);
      await gp.login(username, password, { remember });
      event.target.reset();
      await showApp();
    });
  });
  $("spa-call").addEventListener("click", () => guard(callWhoami));
  $("spa-refresh").addEventListener("click", () => guard(async () => gp.refresh()));
  $("spa-logout-all").addEventListener("click", () => guard(async () => {
    await gp.logoutAll();
    showLogin();
  }));
  await startHybrid(gp, "spa", { guard, showApp, showLogin, tick });
}

start();
