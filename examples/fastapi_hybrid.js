// The page of examples/fastapi_hybrid.py: log in, call the API, log out.
import { Gatepass } from "/auth/gatepass.js";

// The access token lives inside this object, in memory only. With DPoP (the example's
// --dpop), it is bound to a key this browser cannot export: useless anywhere else.
const gp = new Gatepass({ dpop: document.documentElement.dataset.dpop === "on" });
const who = document.querySelector("#who");

// Who is logged in, asked of the API: gp.fetch adds the bearer token, refreshes it when it
// is about to expire (and once after a 401), and after a reload gets a new one first.
async function render() {
  const response = await gp.fetch("/me");
  who.textContent = response.ok ? (await response.json()).user_id : "nobody";
  document.body.dataset.status = String(response.status);
}

// Login state changed, here or in another tab of this site. (The other events: "refresh",
// a new token; "failure", the server cannot refresh now: still logged in, try later.)
gp.addEventListener("change", (event) => {
  if (event.detail.type === "login" || event.detail.type === "logout") render();
});

document.querySelector("#login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    await gp.login(form.get("username"), form.get("password"));
  } catch (error) {
    who.textContent = `not logged in (${error.message})`;
  }
});
document.querySelector("#logout").addEventListener("click", () => gp.logout());

render();
