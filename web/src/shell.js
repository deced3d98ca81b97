// The page shell: soft navigation between the server-rendered pages, so the keys in memory
// (session.js) survive moving from page to page. Every page module calls
//   page("documents", mount)
// where mount(main, ctx) may return a cleanup function, run when the person leaves the page
// (revoke blob: URLs, stop the camera...). ctx = { navigate, signal, params, session }.
import { getJson, request } from "./api.js";
import { loadMessages } from "./i18n.js";
import { clearSession, getSession, onSessionChange } from "./session.js";
import { announce } from "./ui.js";
import "./quickexit.js"; // quick exit on every page (issue 19)

const registry = new Map();
let started = false;
let cleanup = null;
let controller = null;
let navigating = 0;

export function page(name, mount) {
  registry.set(name, mount);
  if (!started) {
    started = true;
    start();
  }
  const main = document.querySelector("main[data-page]");
  if (main?.dataset.page === name && !main.dataset.mounted) mountCurrent();
}

function start() {
  document.addEventListener("click", onClick);
  document.addEventListener("keydown", onMenuKey);
  document.addEventListener("submit", onLanguageSubmit);
  window.addEventListener("popstate", () => navigate(location.pathname + location.search, { history: false }));
  onSessionChange(updateChrome);
  updateChrome(getSession());
}

async function mountCurrent() {
  const main = document.querySelector("main[data-page]");
  const mount = registry.get(main.dataset.page);
  if (!mount) return;
  main.dataset.mounted = "1";
  await loadMessages();
  updateChrome(getSession());
  controller = new AbortController();
  const params = new URLSearchParams(location.search);
  const result = await mount(main, { navigate, signal: controller.signal, params, session: getSession() });
  cleanup = typeof result === "function" ? result : null;
  // Tests (and anyone curious) can wait for this: the page has finished its first work.
  main.dataset.ready = "1";
}

function leave() {
  controller?.abort();
  controller = null;
  try {
    cleanup?.();
  } finally {
    cleanup = null;
  }
}

/** Shows the nav (documents, profile, log out) only while the wallet is unlocked. */
function updateChrome(session) {
  for (const node of document.querySelectorAll("[data-needs-session]")) node.hidden = !session;
  for (const node of document.querySelectorAll("[data-without-session]")) node.hidden = !!session;
  const handle = document.querySelector("[data-handle]");
  if (handle) handle.textContent = session?.account?.handle ?? "";
  showOrgEntries(session);
}

// The inbox is for members of an organisation: asked once per unlocked account (GET /orgs).
let orgs = { account: null, member: false, pending: null };

function showOrgEntries(session) {
  const account = session?.account?.id ?? null;
  const apply = () => {
    const show = !!account && orgs.account === account && orgs.member;
    for (const node of document.querySelectorAll("[data-needs-org]")) node.hidden = !show;
  };
  apply();
  if (!account || orgs.account === account) return;
  orgs = { account, member: false, pending: null };
  const asked = orgs;
  asked.pending = getJson("/orgs")
    .then((list) => {
      asked.member = Array.isArray(list) && list.length > 0;
    })
    .catch(() => {})
    .finally(() => {
      if (orgs === asked) apply();
    });
}

/** The folded menu (below about 600 px): a button with aria-expanded opens the nav below it. */
function setMenu(open, { focusButton = false } = {}) {
  const button = document.querySelector("[data-menu-toggle]");
  const nav = button && document.getElementById(button.getAttribute("aria-controls"));
  if (!nav) return;
  button.setAttribute("aria-expanded", String(open));
  nav.classList.toggle("open", open);
  if (focusButton) button.focus();
}

function onMenuKey(event) {
  if (event.key !== "Escape") return;
  const button = document.querySelector("[data-menu-toggle]");
  if (button?.getAttribute("aria-expanded") !== "true") return;
  const inside = event.target instanceof Element && event.target.closest(".site-header");
  setMenu(false, { focusButton: !!inside });
}

function isSoftLink(anchor, event) {
  if (!anchor || event.defaultPrevented || event.button !== 0) return false;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return false;
  if (anchor.target || anchor.hasAttribute("download") || anchor.dataset.hard !== undefined) {
    return false;
  }
  const url = new URL(anchor.href, location.href);
  if (url.origin !== location.origin) return false;
  if (/^\/(api|static|s)\//.test(url.pathname)) return false;
  if (url.pathname === location.pathname && url.search === location.search && url.hash) {
    return false; // an anchor on this page, like the skip link
  }
  return true;
}

function onClick(event) {
  const toggle = event.target.closest?.("[data-menu-toggle]");
  if (toggle) {
    setMenu(toggle.getAttribute("aria-expanded") !== "true");
    return;
  }
  const anchor = event.target.closest?.("a[href]");
  if (isSoftLink(anchor, event)) {
    event.preventDefault();
    const url = new URL(anchor.href, location.href);
    navigate(url.pathname + url.search);
    return;
  }
  const logout = event.target.closest?.("[data-logout]");
  if (logout) {
    event.preventDefault();
    logOut();
  }
}

async function onLanguageSubmit(event) {
  const form = event.target;
  if (!form.matches("form[data-language]")) return;
  event.preventDefault();
  // The cookie changes; the keys stay: reload this page's HTML in the new language.
  await fetch(form.action, {
    method: "POST",
    body: new URLSearchParams(new FormData(form)),
    credentials: "same-origin",
    redirect: "manual",
  });
  await navigate(location.pathname + location.search, { history: false });
}

/** Ends the session on the server, forgets the keys, and goes to the start page. */
export async function logOut() {
  leave();
  clearSession();
  try {
    await request("POST", "/web/logout");
  } catch {
    // Offline: the cookie session expires by itself; the keys are already gone.
  }
  await navigate("/", { replace: true });
}

/**
 * Loads another page's HTML and swaps it in without a reload. Falls back to a normal load if
 * the server does not answer with a page.
 */
export async function navigate(path, { replace = false, history = true } = {}) {
  const ticket = ++navigating;
  let response;
  try {
    response = await fetch(path, {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    });
  } catch {
    location.assign(path);
    return;
  }
  if (ticket !== navigating) return; // a later click won
  if (!(response.headers.get("content-type") || "").includes("text/html")) {
    location.assign(path);
    return;
  }
  const html = await response.text();
  const next = new DOMParser().parseFromString(html, "text/html");
  const nextMain = next.querySelector("main[data-page]");
  if (!nextMain) {
    location.assign(path);
    return;
  }
  leave();
  if (history) {
    if (replace) window.history.replaceState(null, "", response.url || path);
    else window.history.pushState(null, "", response.url || path);
  }
  document.title = next.title;
  document.documentElement.lang = next.documentElement.lang;
  document.documentElement.dir = next.documentElement.dir || "ltr";
  document.querySelector("header").replaceWith(next.querySelector("header"));
  swapChrome(next); // quick exit row, footer, skip link: the whole chrome follows the language
  updateChrome(getSession()); // before the next paint: no flash of the hidden menu
  const main = document.querySelector("main[data-page]");
  main.replaceWith(nextMain);
  window.scrollTo(0, 0);
  const heading = nextMain.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
  }
  announce(next.title);
  const name = nextMain.dataset.page;
  if (registry.has(name)) {
    await mountCurrent();
  } else if (nextMain.dataset.module) {
    await import(nextMain.dataset.module); // registers and mounts itself
  }
}

// Besides <header> and <main>, the parts of every page that carry words: after a language
// switch the whole page speaks the new language, footer and quick-exit box included.
const CHROME = [".skip-link", "[data-quick-exit-box]", "footer"];

function swapChrome(next) {
  for (const selector of CHROME) {
    const current = document.querySelector(selector);
    const incoming = next.querySelector(selector);
    if (current && incoming) current.replaceWith(incoming);
  }
}

/** For pages that need the unlocked wallet: sends the person to log in, then back here. */
export function requireSession(ctx) {
  const session = getSession();
  if (session) return session;
  const back = location.pathname + location.search;
  ctx.navigate(`/login?next=${encodeURIComponent(back)}`, { replace: true });
  return null;
}
