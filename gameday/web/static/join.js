// The join link (/join#TOKEN): trade the token for the HttpOnly session cookie, drop it
// from the address bar, and go to the room. The fragment never reaches a server log.
"use strict";

(async function () {
  const status = document.getElementById("join-status");
  const token = decodeURIComponent(window.location.hash.replace(/^#/, ""));
  history.replaceState(null, "", "/join");
  if (!token) {
    status.textContent = "This link carries no token. Ask the facilitator for your join link.";
    return;
  }
  try {
    const resp = await fetch("/api/session", {
      method: "POST", credentials: "same-origin",
      headers: { "X-Gameday-Token": token, "Accept": "application/json" },
    });
    if (resp.ok) {
      window.location.replace("/room");
      return;
    }
    let message = resp.status + " " + resp.statusText;
    try { message = (await resp.json()).error || message; } catch (e) { /* keep */ }
    status.textContent = "Could not join: " + message;
  } catch (err) {
    status.textContent = "Could not reach the control room: " + err.message;
  }
})();
