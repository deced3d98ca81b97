// The list of documents: type pictograms, expiry warnings, newest versions.
import { categoryOf, EXPIRY_WARNING_DAYS } from "../catalogue.js";
import { formatBytes, formatDate, t } from "../i18n.js";
import { page, requireSession } from "../shell.js";
import { el, messageFor, showError } from "../ui.js";
import { listDocuments } from "../vault.js";

/** "expired", "soon" or "" for an ISO date (YYYY-MM-DD), compared with today. */
export function expiryState(expiry, today = new Date()) {
  if (!expiry || !/^\d{4}-\d{2}-\d{2}$/.test(expiry)) return "";
  const end = new Date(`${expiry}T23:59:59`);
  if (end < today) return "expired";
  const days = (end - today) / 86_400_000;
  return days <= EXPIRY_WARNING_DAYS ? "soon" : "";
}

function item(doc) {
  const type = doc.meta.type || "other";
  const state = expiryState(doc.meta.expiry_date);
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
        state &&
          el("span", {
            class: `badge ${state}`,
            text: t(`documents.${state}`, { date: formatDate(doc.meta.expiry_date) }),
          }),
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
  } catch (error) {
    status.textContent = "";
    showError(main, messageFor(error));
  }
});
