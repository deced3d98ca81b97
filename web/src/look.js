// A neutral look for the browser tab (issue 19): the person may choose that the tab and the
// icon say "Notes" (or "Shopping list") with a plain icon, instead of "My document wallet".
// The choice is kept on this device only, in a cookie that holds no secret and that the
// server never reads (a quick exit keeps it, so the tab stays neutral; a kiosk's end of
// session wipes it with every other cookie). It is applied on every page, the login page
// included, and again whenever a page changes the title.
import { loadMessages, t } from "./i18n.js";

export const LOOK_COOKIE = "wallet_look";
export const LOOKS = ["notes", "list"];
const MAX_AGE = 365 * 86400;

export function currentLook() {
  const match = document.cookie.match(new RegExp(`(?:^|; )${LOOK_COOKIE}=([a-z]+)`));
  return match && LOOKS.includes(match[1]) ? match[1] : "";
}

export function setLook(look) {
  const secure = location.protocol === "https:" ? "; Secure" : "";
  if (LOOKS.includes(look)) {
    document.cookie = `${LOOK_COOKIE}=${look}; Max-Age=${MAX_AGE}; Path=/; SameSite=Strict${secure}`;
  } else {
    document.cookie = `${LOOK_COOKIE}=; Max-Age=0; Path=/; SameSite=Strict${secure}`;
  }
  return applyLook();
}

let originalIcon = null;
let restoreTitle = null; // the page's own title, put back when the look is turned off
let wanted = null; // the title this module last set, so that its own change is not undone

function setIcon(href) {
  let icon = document.querySelector('link[rel~="icon"]');
  if (!icon) {
    icon = document.createElement("link");
    icon.rel = "icon";
    document.head.append(icon);
  }
  originalIcon ??= { href: icon.getAttribute("href"), type: icon.getAttribute("type") };
  icon.setAttribute("href", href);
  icon.setAttribute("type", "image/svg+xml");
}

/** Puts the chosen title and icon on this page (or the wallet's own when none is chosen). */
export async function applyLook() {
  const look = currentLook();
  if (!look) {
    if (originalIcon) setIcon(originalIcon.href);
    if (wanted !== null && document.title === wanted) document.title = restoreTitle ?? document.title;
    wanted = null;
    return;
  }
  setIcon(`/static/img/look-${look}.svg`);
  if (wanted === null) wanted = "";
  await loadMessages();
  if (currentLook() !== look) return;
  wanted = t(`look.${look}`);
  if (document.title !== wanted) {
    restoreTitle = document.title;
    document.title = wanted;
  }
}

/** Applies the look now and after every title change (the pages swap titles as they load). */
export function watchLook() {
  applyLook();
  const head = document.head;
  new MutationObserver(() => {
    if (currentLook() && wanted && document.title !== wanted) {
      restoreTitle = document.title;
      document.title = wanted;
      setIcon(`/static/img/look-${currentLook()}.svg`);
    }
  }).observe(head, { childList: true, subtree: true, characterData: true });
}
