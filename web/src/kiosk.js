// Public-kiosk mode: a shelter's or a library's computer, used by one person after another.
// Keys and documents live only in this tab's memory (session.js); nothing is written to any
// browser storage. An idle countdown (default 3 minutes) and an "End session" button wipe
// everything: the keys, the page, the server session, every cookie, every storage API and the
// Cache Storage (POST /web/kiosk/end answers with Clear-Site-Data, and this script deletes them
// too, for a browser that ignores the header), then load the kiosk start page afresh.
// Soft navigation replaces the history entry instead of adding one, so Back and Forward have
// nothing to go to after the wipe.
import qrcode from "qrcode-generator";
import { loadMessages, t } from "./i18n.js";
import { clearSession, forgetPendingRecovery, getSession } from "./session.js";

export const KIOSK_COOKIE = "wallet_kiosk";
const IDLE_COOKIE = "wallet_kiosk_idle";
export const DEFAULT_IDLE_SECONDS = 180;
const MIN_IDLE = 5;
const MAX_IDLE = 1800;
const WARN_SECONDS = 30;
const ACTIVITY = ["pointerdown", "keydown", "touchstart", "wheel", "input", "scroll"];

function cookie(name) {
  const match = document.cookie.match(new RegExp(`(?:^|;\\s*)${name}=([^;]*)`));
  return match ? decodeURIComponent(match[1]) : null;
}

/** True on a public computer (the /kiosk page set the session cookie). */
export function isKiosk() {
  return cookie(KIOSK_COOKIE) === "1" || document.documentElement.classList.contains("kiosk");
}

export function idleSeconds() {
  const value = Number(cookie(IDLE_COOKIE));
  return Number.isInteger(value) && value >= MIN_IDLE && value <= MAX_IDLE ? value : DEFAULT_IDLE_SECONDS;
}

// Other modules (meeting mode, acting for someone) forget their own state here.
const wipeHooks = new Set();
export function onWipe(fn) {
  wipeHooks.add(fn);
  return () => wipeHooks.delete(fn);
}

let started = false;
let deadline = 0;
let timer = null;
let wiping = false;
let bar = null;
let idle = DEFAULT_IDLE_SECONDS;
let warned = false;

function formatRemaining(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function bump() {
  if (wiping) return;
  deadline = Date.now() + idle * 1000;
  if (warned) {
    warned = false;
    bar?.classList.remove("warning");
  }
}

/** Draws (or refreshes, in the current language) the bar with the countdown and the button. */
function renderBar() {
  if (!bar || !bar.isConnected) {
    bar = document.createElement("div");
    bar.className = "kiosk-bar";
    bar.setAttribute("role", "region");
    bar.dataset.kioskBar = "";
    const text = document.createElement("p");
    text.className = "kiosk-text";
    const label = document.createElement("span");
    label.dataset.kioskLabel = "";
    const time = document.createElement("strong");
    time.className = "kiosk-countdown";
    time.dataset.kioskCountdown = "";
    // The number changes every second: a screen reader hears it on request, not every tick.
    time.setAttribute("aria-live", "off");
    text.append(label, " ", time);
    const end = document.createElement("button");
    end.type = "button";
    end.className = "danger primary kiosk-end";
    end.dataset.kioskEnd = "";
    end.addEventListener("click", () => wipe("ended"));
    const alert = document.createElement("p");
    alert.className = "kiosk-alert";
    alert.setAttribute("role", "alert");
    alert.dataset.kioskAlert = "";
    bar.append(text, end, alert);
    // After the skip link, before everything else: "End session" is the second Tab stop.
    const skip = document.querySelector(".skip-link");
    if (skip) skip.after(bar);
    else document.body.prepend(bar);
  }
  bar.setAttribute("aria-label", t("kiosk.bar_label"));
  bar.querySelector("[data-kiosk-label]").textContent = t("kiosk.ends_in");
  bar.querySelector("[data-kiosk-end]").textContent = t("kiosk.end_session");
}

function tick() {
  if (wiping) return;
  // A long upload or download is the person still here, not an idle screen.
  if (document.querySelector("[aria-busy=true]")) bump();
  renderBar();
  const remaining = (deadline - Date.now()) / 1000;
  bar.querySelector("[data-kiosk-countdown]").textContent = formatRemaining(remaining);
  const alert = bar.querySelector("[data-kiosk-alert]");
  if (remaining <= WARN_SECONDS && !warned) {
    warned = true;
    bar.classList.add("warning");
    alert.textContent = t("kiosk.warning", { seconds: Math.ceil(remaining) });
  } else if (!warned && alert.textContent) {
    alert.textContent = "";
  }
  if (remaining <= 0) wipe("idle");
}

async function quietly(work) {
  try {
    await work();
  } catch {
    // best effort: the server's Clear-Site-Data and the reload cover the rest
  }
}

/** Deletes everything this origin may have put in the browser. */
export async function clearBrowserStorage() {
  await quietly(async () => localStorage.clear());
  await quietly(async () => sessionStorage.clear());
  await quietly(async () => {
    for (const db of (await indexedDB.databases?.()) ?? []) {
      if (db.name) indexedDB.deleteDatabase(db.name);
    }
  });
  await quietly(async () => {
    for (const key of await caches.keys()) await caches.delete(key);
  });
  await quietly(async () => {
    for (const registration of (await navigator.serviceWorker?.getRegistrations()) ?? []) {
      await registration.unregister();
    }
  });
}

/**
 * Wipes the tab and starts again at the kiosk page. `reason`: "ended" or "idle".
 * The page is emptied first, so nothing stays on screen while the server answers.
 */
export async function wipe(reason = "ended") {
  if (wiping) return;
  wiping = true;
  clearInterval(timer);
  for (const fn of wipeHooks) {
    try {
      fn();
    } catch {
      // a hook must not stop the wipe
    }
  }
  clearSession();
  forgetPendingRecovery();
  for (const node of document.querySelectorAll("main, header, footer")) node.replaceChildren();
  document.title = "…";
  await quietly(() =>
    fetch("/web/kiosk/end", { method: "POST", credentials: "same-origin", cache: "no-store" }),
  );
  await clearBrowserStorage();
  const query = new URLSearchParams({ ended: reason });
  if (idle !== DEFAULT_IDLE_SECONDS) query.set("idle", String(idle));
  // replace(): the page we leave gets no history entry, so Back cannot bring it back.
  location.replace(`/kiosk?${query}`);
}

/** Starts kiosk mode in this tab (idempotent). */
export function startKiosk() {
  if (started) return;
  started = true;
  idle = idleSeconds();
  document.documentElement.classList.add("kiosk");
  // One history entry for the whole visit: soft navigation replaces it.
  const replace = history.replaceState.bind(history);
  history.pushState = (state, unused, url) => replace(state, unused, url);
  for (const name of ACTIVITY) {
    document.addEventListener(name, bump, { capture: true, passive: true });
  }
  // A page restored from the back/forward cache would still hold its memory: never show it.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) location.reload();
  });
  document.addEventListener("click", onPrintQr);
  bump();
  tick();
  timer = setInterval(tick, 1000);
  loadMessages().then(tick, () => {});
}

export const kioskState = () => ({ started, idle, wiping, unlocked: !!getSession() });

// --- "print this QR" for share links -------------------------------------------------------
// A share page marks its link with <button data-print-qr="#selector-of-the-link-text">; in kiosk
// mode the button prints a sheet with the QR code, since the person cannot take the link home
// on this computer. The link never goes to the server: the QR is drawn here.

const SVG = "http://www.w3.org/2000/svg";

export function qrSvg(text, label) {
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  const count = qr.getModuleCount();
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `-4 -4 ${count + 8} ${count + 8}`);
  svg.setAttribute("class", "qr");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  const back = document.createElementNS(SVG, "rect");
  for (const [k, v] of Object.entries({ x: -4, y: -4, width: count + 8, height: count + 8 })) {
    back.setAttribute(k, String(v));
  }
  back.setAttribute("class", "light");
  let d = "";
  for (let row = 0; row < count; row++) {
    for (let col = 0; col < count; col++) if (qr.isDark(row, col)) d += `M${col},${row}h1v1h-1z`;
  }
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", d);
  path.setAttribute("fill", "#000");
  svg.append(back, path);
  return svg;
}

/** Shows a printable sheet with the QR code of `url`, prints it, and removes it afterwards. */
export function printQr(url) {
  document.querySelector("[data-qr-sheet]")?.remove();
  const sheet = document.createElement("section");
  sheet.className = "qr-sheet";
  sheet.dataset.qrSheet = "";
  sheet.setAttribute("aria-label", t("kiosk.qr_title"));
  const heading = document.createElement("h2");
  heading.textContent = t("kiosk.qr_title");
  const hint = document.createElement("p");
  hint.textContent = t("kiosk.qr_hint");
  const close = document.createElement("button");
  close.type = "button";
  close.className = "no-print";
  close.textContent = t("kiosk.qr_close");
  const remove = () => sheet.remove();
  close.addEventListener("click", remove);
  sheet.append(heading, qrSvg(url, t("kiosk.qr_title")), hint, close);
  document.body.append(sheet);
  document.documentElement.classList.add("printing-qr");
  const done = () => {
    document.documentElement.classList.remove("printing-qr");
    window.removeEventListener("afterprint", done);
  };
  window.addEventListener("afterprint", done);
  // A wipe takes the sheet away with everything else.
  onWipe(remove);
  window.print();
  close.focus();
  return sheet;
}

function onPrintQr(event) {
  // Only buttons that name their link's element; the share page prints its own QR code.
  const button = event.target.closest?.("[data-print-qr]");
  if (!button?.dataset.printQr) return;
  let source = null;
  try {
    source = document.querySelector(button.dataset.printQr);
  } catch {
    return;
  }
  const url = source?.value ?? source?.textContent ?? "";
  if (url.trim()) printQr(url.trim());
}
