// Quick exit (issue 19), after the GOV.UK "Exit this page" component: a visible button and
// the Shift key pressed three times leave the wallet at once for a neutral public page. In
// this order, none waiting for the next: the keys in memory are overwritten, the screen is
// emptied, the server session is ended with a keepalive request (not awaited), local and
// session storage, IndexedDB and Cache Storage are emptied, and the page is replaced with
// location.replace, so Back does not come back to it. A wallet page reached with Back later is
// loaded afresh: without keys or a session it shows only the login page.
import { markLeft } from "./leaving.js";
import { clearSession } from "./session.js";

const NEUTRAL = "https://www.wikipedia.org/";
const SHIFT_PRESSES = 3;
const SHIFT_WINDOW_MS = 5000;

function quiet(action) {
  try {
    const result = action();
    if (result && typeof result.catch === "function") result.catch(() => {});
  } catch {
    // Leaving matters more than any one clean-up step.
  }
}

export function quickExit() {
  const to = document.querySelector("[data-quick-exit]")?.dataset.to || NEUTRAL;
  markLeft();
  quiet(() => clearSession());
  quiet(() => {
    document.title = "";
    document.body.replaceChildren();
  });
  quiet(() => fetch("/web/logout", { method: "POST", keepalive: true, credentials: "same-origin" }));
  quiet(() => localStorage.clear());
  quiet(() => sessionStorage.clear());
  quiet(() => indexedDB.databases().then((list) => list.forEach((db) => indexedDB.deleteDatabase(db.name))));
  quiet(() => caches.keys().then((keys) => keys.forEach((key) => caches.delete(key))));
  location.replace(to);
}

let presses = [];

document.addEventListener(
  "click",
  (event) => {
    if (event.target instanceof Element && event.target.closest("[data-quick-exit]")) {
      event.preventDefault();
      event.stopImmediatePropagation();
      quickExit();
    }
  },
  { capture: true },
);

document.addEventListener(
  "keydown",
  (event) => {
    if (event.key !== "Shift") {
      presses = [];
      return;
    }
    if (event.repeat) return;
    const now = performance.now();
    presses = [...presses.filter((at) => now - at < SHIFT_WINDOW_MS), now];
    if (presses.length >= SHIFT_PRESSES) {
      presses = [];
      quickExit();
    }
  },
  { capture: true },
);
