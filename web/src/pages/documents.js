// The list of documents: type pictograms, expiry warnings, newest versions.
import { expiryState as stateOn, todayIn } from "../attention.js";
import { categoryOf } from "../catalogue.js";
import { formatBytes, t } from "../i18n.js";
import { page, requireSession } from "../shell.js";
import { el, messageFor, showError } from "../ui.js";
import { fetchEntries, render, sinceLastLogin, verifyChain } from "../journal.js";
import { getJson } from "../api.js";
import { getSession, onSessionChange } from "../session.js";
import { listDocuments } from "../vault.js";
import { drawEmergencyNotice } from "../emergency_notice.js";
import { drawAttention, expiryMark } from "../reminders.js";

// The summary of this login, computed once (the whole journal is read for it), like the
// CLI's banner at `wallet login`: what people acting for the owner did since the previous
// login, and the requests waiting for an answer.
let summaryFor = null;
// Titles and names in it go with the session (a kiosk's wipe leaves none in memory).
onSessionChange(() => {
  summaryFor = null;
});

async function summary() {
  // Per login: each login sets a new session object, so a new login reads the journal again.
  const current = getSession();
  if (summaryFor?.session !== current) {
    summaryFor = {
      session: current,
      done: (async () => {
        const entries = await fetchEntries();
        // Only what the checked chain says: a broken journal is the journal page's alarm.
        if (!(await verifyChain(entries)).intact) return [];
        const since = sinceLastLogin(entries);
        return since.length ? render(since) : [];
      })().catch(() => []),
    };
  }
  const [done, requests] = await Promise.all([
    summaryFor.done,
    getJson("/requests").catch(() => []),
  ]);
  const waiting = requests.filter((r) => r.direction === "incoming" && r.status === "open").length;
  return { done, waiting };
}

/** A short block above the list; nothing when nothing happened. Compact on a phone. */
async function drawSummary(main, ctx, { requestsShown = false } = {}) {
  const box = main.querySelector("[data-summary]");
  if (!box) return;
  const found = await summary();
  const { done } = found;
  // The reminders above already name each waiting request: not twice.
  const waiting = requestsShown ? 0 : found.waiting;
  if (ctx.signal.aborted || (!done.length && !waiting)) return;
  box.setAttribute("aria-label", t("summary.label"));
  box.querySelector("[data-summary-title]").textContent = t("summary.title");
  // The three newest, newest first: the journal has the rest.
  box.querySelector("[data-summary-list]").replaceChildren(
    ...done
      .slice(-3)
      .reverse()
      .map((r) => el("li", { dataset: { event: r.event }, text: r.sentence })),
  );
  box.querySelector("[data-summary-list]").hidden = !done.length;
  const asked = box.querySelector("[data-summary-requests]");
  if (waiting) {
    asked.replaceChildren(
      `${waiting === 1 ? t("summary.requests_one") : t("summary.requests_many", { n: waiting })} `,
      el("a", { href: "/requests", text: t("summary.answer") }),
    );
    asked.hidden = false;
  }
  const journal = box.querySelector("[data-summary-journal]");
  journal.textContent = t("summary.journal");
  journal.parentElement.hidden = !done.length;
  box.hidden = false;
}

/** "expired", "soon" or "" for an ISO date (YYYY-MM-DD), in the owner's day (attention.js). */
export function expiryState(expiry, today = todayIn()) {
  const found = stateOn(expiry, today);
  return found ? (found.state === "expired" ? "expired" : "soon") : "";
}

function item(doc) {
  const type = doc.meta.type || "other";
  const mark = expiryMark(doc.meta.expiry_date);
  const title = doc.meta.title || doc.meta.file_name || t("documents.untitled");
  const details = [
    t(`types.${type}`),
    t("documents.version", { n: doc.version }),
    formatBytes(doc.size),
  ].join(" · ");
  return el(
    "li",
    { dataset: { id: doc.id } },
    el(
      "a",
      { href: `/documents/${doc.id}` },
      el("img", { src: `/static/img/cat-${categoryOf(type)}.svg`, alt: "", class: "icon", width: 40, height: 40 }),
      el(
        "span",
        {},
        el("span", { class: "title", text: title }),
        el("span", { class: "details", text: details }),
        // Added by a trusted person under a mandate (their manifest, signed with the key the
        // owner signed into it): say who, so nothing arrives unexplained.
        doc.addedBy
          ? el("span", { class: "details", dataset: { addedBy: "" }, text: t("documents.added_by", { proxy: doc.addedBy }) })
          : null,
        mark && el("span", { class: `badge ${mark.state}`, dataset: { mark: mark.state }, text: mark.text }),
      ),
    ),
  );
}

page("documents", async (main, ctx) => {
  if (!requireSession(ctx)) return;
  const status = main.querySelector("[data-status]");
  const list = main.querySelector("[data-list]");
  try {
    const documents = await listDocuments();
    if (ctx.signal.aborted) return;
    // Expired and soon-to-expire papers first: they need the person's attention.
    const rank = { expired: 0, soon: 1, "": 2 };
    documents.sort((a, b) => rank[expiryState(a.meta.expiry_date)] - rank[expiryState(b.meta.expiry_date)]);
    list.replaceChildren(...documents.map(item));
    main.querySelector("[data-empty]").hidden = documents.length > 0;
    status.textContent = documents.length ? t(documents.length === 1 ? "documents.count_one" : "documents.count", { n: documents.length }) : "";
    await drawEmergencyNotice(main, ctx);
    const reminders = await drawAttention(main, ctx, documents);
    await drawSummary(main, ctx, { requestsShown: reminders.some((r) => r.kind === "request_waiting") });
  } catch (error) {
    status.textContent = "";
    showError(main, messageFor(error));
  }
});
