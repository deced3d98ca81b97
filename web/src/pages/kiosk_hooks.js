// Loaded on every page by base.html, next to the page's own module (same chunks, same memory):
// - the neutral tab title and icon chosen on this device (web/src/look.js);
// - on a public computer (kiosk cookie), the idle countdown, "End session" and the wipe;
// - the language remembered per account: a sealed profile field "language" (the server cannot
//   read it: a language can hint at where someone comes from). After login the wallet switches
//   to it; choosing another language while logged in saves it - except on a kiosk, where the
//   choice lasts for the session only and the wipe forgets it.
import { language } from "../i18n.js";
import { isKiosk, startKiosk } from "../kiosk.js";
import { watchLook } from "../look.js";
import { getSession, onSessionChange } from "../session.js";
import { navigate } from "../shell.js";
import { profile, setProfileField } from "../vault.js";

// The languages offered are the ones in the language menu (web/i18n.py finds them).
const LANGUAGES = [...document.querySelectorAll("#language-select option")].map((option) => option.value);
export const LANGUAGE_FIELD = "language";
// Pages that must not be reloaded under the person's feet (a recovery sheet is shown once).
const KEEP = new Set(["login", "register", "recovery_sheet"]);

if (isKiosk()) startKiosk();
// The neutral tab title and icon the person chose on this device, if any (web/src/look.js).
watchLook();

const currentPage = () => document.querySelector("main[data-page]")?.dataset.page ?? "";

async function setLanguageCookie(code) {
  await fetch("/language", {
    method: "POST",
    body: new URLSearchParams({ language: code, next: "/" }),
    credentials: "same-origin",
    redirect: "manual",
  });
}

/** Waits (a few seconds at most) until the login or register page has moved on. */
async function pageSettled() {
  for (let i = 0; i < 50 && KEEP.has(currentPage()); i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return !KEEP.has(currentPage());
}

let appliedFor = null;
// The language this account's profile holds, as last read or written here: choosing the
// language it already has writes nothing (no needless change in the owner's journal).
let savedLanguage = null;

async function applyAccountLanguage(session) {
  const handle = session?.account?.handle;
  if (!handle || appliedFor === handle) return;
  appliedFor = handle;
  let stored;
  try {
    stored = (await profile())[LANGUAGE_FIELD];
  } catch {
    return; // the profile page says what is wrong; the language can wait
  }
  if (!getSession()) return;
  savedLanguage = stored ?? null;
  if (!LANGUAGES.includes(stored)) {
    // A new wallet keeps the language its owner chose on the way in.
    if (!isKiosk()) {
      savedLanguage = language();
      await setProfileField(LANGUAGE_FIELD, savedLanguage).catch(() => {});
    }
    return;
  }
  if (stored === language()) return;
  await setLanguageCookie(stored);
  if ((await pageSettled()) && getSession() && language() !== stored) {
    await navigate(location.pathname + location.search, { history: false });
  }
}

onSessionChange((session) => {
  if (session) applyAccountLanguage(session);
  else appliedFor = savedLanguage = null;
});
if (getSession()) applyAccountLanguage(getSession());

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.matches?.("form[data-language]") || !getSession() || isKiosk()) return;
  const code = new FormData(form).get("language");
  if (!LANGUAGES.includes(code) || code === savedLanguage) return;
  savedLanguage = code;
  setProfileField(LANGUAGE_FIELD, code).catch(() => {});
});
