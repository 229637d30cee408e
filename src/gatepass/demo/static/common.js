/* Helpers shared by the demo's JavaScript pages. Every piece of text goes in with textContent:
 * user names, device descriptions and error messages come from elsewhere and are never HTML. */

export const $ = (id) => document.getElementById(id);

export function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (className) node.className = className;
  return node;
}

export function show(node, on) {
  node.classList.toggle("hidden", !on);
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

/** "14:03:27" in the viewer's time zone. */
export function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

/** "4:59" for a number of seconds. */
export function minutes(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** "14:03:27 (2 min ago)" for an epoch time in seconds, as the classic pages print it. */
export function when(seconds) {
  const delta = Math.round(seconds - Date.now() / 1000);
  const span = (n) => (n < 60 ? `${n} s` : n < 7200 ? `${Math.floor(n / 60)} min` : `${Math.floor(n / 3600)} h`);
  const rel = Math.abs(delta) < 5 ? "now" : delta > 0 ? `in ${span(delta)}` : `${span(-delta)} ago`;
  return `${clock(seconds * 1000)} (${rel})`;
}

const BROWSERS = [["Edg/", "Edge"], ["Firefox/", "Firefox"], ["HeadlessChrome/", "Headless Chrome"],
  ["Chrome/", "Chrome"], ["Safari/", "Safari"], ["curl/", "curl"]];
const SYSTEMS = [["Android", "Android"], ["iPhone", "iPhone"], ["iPad", "iPad"], ["Windows", "Windows"],
  ["Mac OS X", "macOS"], ["Linux", "Linux"]];

/** "Firefox on Linux" for a User-Agent: the same rule as the classic pages (layout.device_name). */
export function deviceName(agent) {
  const label = /\(gatepass-demo: ([^)]{1,40})\)/.exec(agent);
  if (label) return label[1];
  const browser = (BROWSERS.find(([key]) => agent.includes(key)) || [])[1] || "";
  const system = (SYSTEMS.find(([key]) => agent.includes(key)) || [])[1] || "";
  if (browser && system) return `${browser} on ${system}`;
  return browser || system || agent.slice(0, 40) || "unknown device";
}

/** The claims of a JWT, read without verifying (for its exp: the server verifies). */
export function claimsOf(token) {
  const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
}

/** The JSON body of a response, or an Error carrying the problem's detail and code. */
export async function jsonOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const error = new Error((body && body.detail) || `HTTP ${response.status}`);
    error.status = response.status;
    error.code = body && body.code;
    throw error;
  }
  return body;
}

export async function postJson(url, body, headers = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return jsonOf(response);
}

/**
 * One check of a credential: GET ``url`` with the bearer ``token`` (or, without one, whatever
 * cookie the browser holds). Returns {ok, status, code, body}; never throws for an HTTP answer.
 */
export async function probe(url, token) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  try {
    const response = await fetch(url, { headers, cache: "no-store" });
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    return { ok: response.ok, status: response.status, code: body && body.code, body };
  } catch (error) {
    return { ok: false, status: 0, code: "network", body: null };
  }
}

/** Open a token in the offline tools page. The fragment (#token=) never reaches a server. */
export function openInTools(token) {
  if (token) window.open(`/tools/#token=${encodeURIComponent(token)}`, "_blank", "noopener");
}

export function showError(node, error) {
  node.textContent = error ? String(error.message || error) : "";
  show(node, Boolean(error));
}

/**
 * Ask the API who we are (through gp.fetch: refreshed and retried once on a 401); a 401 after
 * that means logged out (``onOut``), else the body, with its line written into ``line``.
 */
export async function whoami(gp, line, onOut) {
  const response = await gp.fetch("/api/whoami");
  if (response.status === 401) {
    onOut();
    return null;
  }
  const body = await jsonOf(response);
  line.textContent = `${response.status} ${body.user_id} via ${body.design} at ${clock(Date.now())}`;
  return body;
}

/**
 * What every page on the hybrid shares once its own buttons are wired: "open in the tools page",
 * "log out", and resuming the login after a reload (the access token was in memory only; the
 * refresh cookie, if any, gets a new one: refresh() resolves to null without one and throws only
 * for "try later"). Then the expiry clock ticks and the page says it is ready.
 */
export async function startHybrid(gp, area, { guard, showApp, showLogin, tick }) {
  $(`${area}-tools`).addEventListener("click", () => openInTools(gp.debugToken()));
  $(`${area}-logout`).addEventListener("click", () => guard(async () => {
    await gp.logout();
    showLogin();
  }));
  await guard(async () => {
    if (await gp.refresh()) await showApp();
    else showLogin();
  });
  setInterval(tick, 1000);
  tick();
  document.body.dataset.ready = "true";
}

/** Run ``action``; an error it throws is shown in ``errorNode`` instead of being lost. */
export async function guard(errorNode, action) {
  showError(errorNode, null);
  try {
    await action();
  } catch (error) {
    showError(errorNode, error);
  }
}

export function formValues(form) {
  const data = new FormData(form);
  return {
    username: String(data.get("username") || ""),
    password: String(data.get("password") || ""),
    remember: data.get("remember") === "1",
  };
}

/** "Your devices" rows: device, design, created, last use, and a revoke button. */
export function renderDevices(tbody, entries, onRevoke) {
  clear(tbody);
  for (const entry of entries) {
    const tr = el("tr");
    tr.dataset.session = entry.id;
    tr.dataset.current = entry.current ? "yes" : "no";
    const device = el("td", deviceName(entry.device || ""));
    if (entry.current) {
      device.append(" ", el("span", "this device", "badge current"));
    }
    const design = el("td");
    design.append(el("span", entry.design, "badge"));
    const button = el("button", "Revoke", "small-button secondary");
    button.type = "button";
    button.addEventListener("click", () => onRevoke(entry));
    const action = el("td");
    action.append(button);
    tr.append(device, design, el("td", when(entry.created_at), "time"), el("td", when(entry.last_seen_at), "time"), action);
    tbody.append(tr);
  }
}

/** The admin's account list with a freeze or unfreeze button for every other account. */
export function renderAccounts(tbody, accounts, me, onAction) {
  clear(tbody);
  for (const account of accounts) {
    const tr = el("tr");
    tr.dataset.user = account.user_id;
    const control = el("td");
    if (account.user_id !== me) {
      const button = el("button", account.frozen ? "Unfreeze" : "Freeze account");
      button.type = "button";
      button.className = `small-button ${account.frozen ? "secondary" : "danger"}`;
      button.addEventListener("click", () => onAction(account.frozen ? "unfreeze" : "freeze", account.user_id));
      control.append(button);
    }
    const name = el("td");
    name.append(el("code", account.user_id));
    tr.append(name, el("td", account.role), el("td", account.frozen ? "frozen" : "active"), control);
    tbody.append(tr);
  }
}
