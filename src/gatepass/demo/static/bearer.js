/* The API area: what a script or another service does with bearer tokens, shown in a page.
 * The tokens are kept in this module's variables only, and shown on purpose: copying them into
 * a terminal is what this page is for. */
import {
  $, guard as guardWith, claimsOf, clock, formValues, minutes, openInTools, postJson, probe, show,
} from "/static/common.js";

let config = null;
let api = null; // {token, exp}
let partner = null;

const origin = window.location.origin;

function curlLogin() {
  return [
    `BASE=${origin}`,
    "# 1. a CSRF token, bound to a seed cookie kept in jar.txt (login CSRF defence)",
    `CSRF=$(curl -s -c jar.txt "$BASE/auth/csrf" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')`,
    "# 2. log in for a bearer token (the response body carries it; no cookie is set)",
    `TOKEN=$(curl -s -b jar.txt -H "X-CSRF-Token: $CSRF" -d design=bearer -d username=alice \\`,
    `  --data-urlencode 'password=correct horse battery staple' "$BASE/auth/login" \\`,
    `  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')`,
    "# 3. call the API with it",
    `curl -s -H "Authorization: Bearer $TOKEN" "$BASE/api/whoami"`,
  ].join("\n");
}

function renderTokens() {
  show($("bearer-tokens"), Boolean(api));
  show($("bearer-login"), !api);
  if (!api) return;
  $("bearer-api-token").value = api.token;
  $("bearer-api-expires").textContent = `at ${clock(api.exp * 1000)}`;
  $("bearer-curl-api").textContent = [
    `TOKEN='${api.token}'`,
    `curl -s -H "Authorization: Bearer $TOKEN" ${origin}/api/whoami`,
  ].join("\n");
  $("bearer-curl-verify").textContent = [
    `curl -s ${origin}/.well-known/jwks.json > jwks.json`,
    `gatepass verify --key jwks.json --iss ${config.issuer} --aud ${config.audience} --typ at+jwt "$TOKEN"`,
  ].join("\n");
  show($("bearer-partner"), Boolean(partner));
  if (partner) {
    $("bearer-partner-token").value = partner.token;
    $("bearer-curl-partner").textContent = [
      `PARTNER='${partner.token}'`,
      `curl -s -H "Authorization: Bearer $PARTNER" ${origin}/partner/whoami`,
    ].join("\n");
  }
}

function setStatus(id, result, exp) {
  const node = $(id);
  const left = exp - Date.now() / 1000;
  if (result.ok) {
    node.dataset.state = "valid";
    node.textContent = `accepted · ${minutes(left)} left`;
  } else {
    node.dataset.state = "gone";
    node.textContent = `refused (${result.code || result.status})`;
  }
}

async function tick() {
  if (api) setStatus("bearer-api-status", await probe("/api/whoami", api.token), api.exp);
  if (partner) {
    setStatus("bearer-partner-status", await probe("/partner/whoami", partner.token), partner.exp);
    const left = partner.exp - Date.now() / 1000;
    $("bearer-partner-countdown").textContent =
      left > 0 ? `${minutes(left)} left (exp ${clock(partner.exp * 1000)})` : `expired at ${clock(partner.exp * 1000)}`;
  }
}

const guard = (action) => guardWith($("bearer-error"), action);

async function start() {
  config = await (await fetch("/api/config")).json();
  $("bearer-curl-login").textContent = curlLogin();
  $("bearer-login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    guard(async () => {
      const { username, password } = formValues(event.target);
      const body = await postJson("/auth/login", { username, password, design: "bearer" });
      event.target.reset();
      api = { token: body.access_token, exp: claimsOf(body.access_token).exp };
      partner = null;
      renderTokens();
      await tick();
    });
  });
  $("bearer-partner-get").addEventListener("click", () => guard(async () => {
    const body = await postJson("/api/partner-token", {}, { authorization: `Bearer ${api.token}` });
    partner = { token: body.access_token, exp: body.expires_at };
    renderTokens();
    await tick();
  }));
  $("bearer-api-tools").addEventListener("click", () => openInTools(api && api.token));
  $("bearer-partner-tools").addEventListener("click", () => openInTools(partner && partner.token));
  $("bearer-api-copy").addEventListener("click", () => navigator.clipboard.writeText(api.token));
  $("bearer-forget").addEventListener("click", () => {
    api = null;
    partner = null;
    renderTokens();
  });
  renderTokens();
  setInterval(tick, 2000);
  document.body.dataset.ready = "true";
}

start();
