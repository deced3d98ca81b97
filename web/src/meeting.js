// Meeting mode (pre-masking): before a meeting, the owner picks the papers that may be shown.
// Starting the meeting forgets the account's keys (session.js): what stays in this tab's memory
// is only the chosen documents' own keys and descriptions. Nobody at the table can open more,
// whatever they click: the other documents cannot even be decrypted until the passphrase is
// typed again (a full login). A reload, a logout or a kiosk wipe forgets the meeting too.
import { onWipe } from "./kiosk.js";
import { loadMessages, t } from "./i18n.js";
import { clearSession, onSessionChange } from "./session.js";

let current = null; // { handle, documents: [{ id, title, type, version }] }
let banner = null;

export function activeMeeting() {
  return current;
}

function drawBanner() {
  if (!current) {
    banner?.remove();
    banner = null;
    return;
  }
  if (!banner || !banner.isConnected) {
    banner = document.createElement("div");
    banner.className = "meeting-banner";
    banner.setAttribute("role", "region");
    banner.dataset.meetingBanner = "";
    const text = document.createElement("p");
    const back = document.createElement("a");
    back.href = "/meeting";
    banner.append(text, back);
    const header = document.querySelector("header.site-header");
    if (header) header.before(banner);
    else document.body.prepend(banner);
  }
  banner.setAttribute("aria-label", t("meeting.banner_label"));
  banner.querySelector("p").textContent = t("meeting.banner", { n: current.documents.length });
  banner.querySelector("a").textContent = t("meeting.banner_back");
}

/**
 * Starts the meeting with `documents` (each { id, title, type, version } where version is the
 * vault's checked version: identity, manifest, meta). The account keys are wiped.
 */
export function startMeeting(handle, documents) {
  current = { handle, documents };
  clearSession();
  drawBanner();
}

export function endMeeting() {
  if (!current) return;
  for (const doc of current.documents) doc.version = null;
  current = null;
  drawBanner();
}

export function refreshMeetingBanner() {
  drawBanner();
}

// The passphrase typed again (here or on the login page) ends the meeting; so does a wipe.
onSessionChange((session) => {
  if (session && current) endMeeting();
});
onWipe(endMeeting);

// Soft navigation changes <html lang> when the person picks another language: redraw in it.
new MutationObserver(() => loadMessages().then(drawBanner, () => {})).observe(document.documentElement, {
  attributes: true,
  attributeFilter: ["lang"],
});
