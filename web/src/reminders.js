// The "Needs your attention" block (documents list and kiosk page), the list's expiry marks and
// the kiosk's printed slip. The rules are in attention.js; everything here is decrypted in
// this browser: the server is asked nothing it was not already asked for the pages.
import { summarise, expiryState, todayIn } from "./attention.js";
import { formatDate, t } from "./i18n.js";
import { isKiosk, onWipe } from "./kiosk.js";
import { mandatesGiven, mandatesReceived } from "./proxy.js";
import { grantsGiven } from "./grants.js";
import { listRequests } from "./requests.js";
import { el } from "./ui.js";
import { listDocuments } from "./vault.js";

const LINKS = {
  paper_expired: (item) => `/documents/${item.id}`,
  paper_expiring: (item) => `/documents/${item.id}`,
  request_waiting: () => "/requests",
  grant_ending: () => "/grants",
  mandate_ending: () => "/proxy",
};

export const titleOf = (doc) => doc.meta.title || doc.meta.file_name || t("documents.untitled");

/** The list's mark for a paper: { state: "expired" | "soon", text } or null. */
export function expiryMark(expiry, today = todayIn()) {
  const found = expiryState(expiry, today);
  if (!found) return null;
  if (found.state === "expired") return { state: "expired", text: t("documents.expired", { date: formatDate(`${expiry}T12:00:00`) }) };
  return { state: "soon", text: t("documents.expires_in", { n: found.days }) };
}

// A part that cannot be read (a request changed on the server, a mandate list that fails) is
// left out: its own page says what is wrong.
const quietly = (promise) => promise.catch(() => []);

/** What needs attention now, from the owner's documents (listed here unless given). */
export async function gatherAttention(documents = null) {
  const [docs, requests, grants, given, received] = await Promise.all([
    documents ?? listDocuments(),
    quietly(listRequests()),
    quietly(grantsGiven()),
    quietly(mandatesGiven()),
    quietly(mandatesReceived()),
  ]);
  return summarise({
    documents: docs.map((doc) => ({ id: doc.id, title: titleOf(doc), expiry_date: doc.meta.expiry_date })),
    requests,
    grants: grants
      .filter((g) => g.state === "active")
      .map((g) => ({ id: g.id, to: g.descriptor.grantee || g.organisation?.display_name, expires_at: g.descriptor.expires_at })),
    mandates: [
      ...given.filter((m) => m.state === "active").map((m) => ({ id: m.id, who: m.descriptor.proxy, expires_at: m.descriptor.expires_at })),
      ...received.map((m) => ({ id: m.id, who: m.descriptor.owner, expires_at: m.descriptor.expires_at })),
    ],
  });
}

/** One item in plain words, in the page's language. */
export function sentence(item) {
  const date = formatDate(`${item.date}T12:00:00`);
  switch (item.kind) {
    case "paper_expired":
      return t("attention.paper_expired", { title: item.title, date });
    case "paper_expiring":
      return t("attention.paper_expiring", { title: item.title, n: item.days, date });
    case "request_waiting": {
      const [who, ...purpose] = item.title.split(": ");
      return t("attention.request_waiting", { who, purpose: purpose.join(": "), date });
    }
    case "grant_ending":
      return t("attention.grant_ending", { who: item.title, n: item.days });
    default:
      return t("attention.mandate_ending", { who: item.title, n: item.days });
  }
}

/** The printed slip: the reminders alone on a page, removed once printed (or at a wipe). */
export function printReminders(items) {
  document.querySelector("[data-reminder-slip]")?.remove();
  const slip = el(
    "section",
    { class: "reminder-slip", dataset: { reminderSlip: "" }, "aria-label": t("attention.slip_title") },
    el("h2", { text: t("attention.slip_title") }),
    el("ul", {}, ...items.map((item) => el("li", { text: sentence(item) }))),
    el("p", { class: "details", text: t("attention.slip_printed", { date: formatDate(new Date()) }) }),
  );
  document.body.append(slip);
  document.documentElement.classList.add("printing-reminders");
  let stopWipe = () => {};
  const done = () => {
    document.documentElement.classList.remove("printing-reminders");
    slip.remove();
    window.removeEventListener("afterprint", done);
    stopWipe();
  };
  window.addEventListener("afterprint", done);
  stopWipe = onWipe(done);
  window.print();
  return slip;
}

/** Fills the page's [data-attention] block; it stays hidden when nothing needs attention. */
export async function drawAttention(main, ctx, documents = null) {
  const box = main.querySelector("[data-attention]");
  if (!box) return [];
  const items = await gatherAttention(documents);
  if (ctx.signal.aborted) return items;
  box.replaceChildren();
  if (!items.length) {
    box.hidden = true;
    return items;
  }
  box.setAttribute("aria-label", t("attention.label"));
  box.append(
    el("h2", { class: "small-heading", text: t("attention.title") }),
    el(
      "ul",
      { dataset: { attentionList: "" } },
      ...items.map((item) =>
        el("li", { dataset: { kind: item.kind } }, el("a", { href: LINKS[item.kind](item), text: sentence(item) })),
      ),
    ),
  );
  if (isKiosk()) {
    const button = el("button", { type: "button", class: "button no-print", text: t("attention.print") });
    button.dataset.printReminders = "";
    button.addEventListener("click", () => printReminders(items));
    box.append(button);
  }
  box.hidden = false;
  return items;
}
