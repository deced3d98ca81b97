// The owner's document requests: each one in plain words, checked against the worker's
// signature; one action gives the documents of the ticked types (a grant + the signed answer),
// or refuses all. Answered requests show what was given and refused, and can be ended.
import { expiryState, todayIn } from "../attention.js";
import { safetyCode } from "../grants.js";
import { formatDate, t } from "../i18n.js";
import { closeRequest, defaultGrantEnd, fulfil, listRequests, refuse, suggestDocuments } from "../requests.js";
import { page, requireSession } from "../shell.js";
import { announce, busy, el, messageFor, showError } from "../ui.js";
import { listDocuments } from "../vault.js";
import { b64d } from "../crypto/encoding.js";

const typeLabel = (type) => t(`types.${type}`);
const typeList = (types) => types.map(typeLabel).join(", ");
const dayText = (day) => formatDate(`${day}T12:00:00Z`);

function title(doc) {
  return doc.meta.title || doc.meta.file_name || t("requests.untitled");
}

function askedLines(request) {
  return [
    el("h3", { class: "title", text: t("requests.asks", { who: request.requester, types: typeList(request.types) || "—" }) }),
    el("p", { text: t("requests.for", { purpose: request.purpose || "—" }) }),
    request.message && el("p", { text: t("requests.message", { message: request.message }) }),
    el("p", { text: t("requests.needed_by", { date: dayText(request.due) }) }),
    request.ignoredTypes.length > 0 && el("p", { class: "hint", text: t("requests.unknown_types", { types: request.ignoredTypes.join(", ") }) }),
  ];
}

function answerLines(request) {
  const answer = request.answer || {};
  const lines = [el("p", { dataset: { status: request.status }, text: t(`requests.status.${request.status}`) })];
  if (answer.given?.length) {
    lines.push(el("p", { text: t("requests.given", { types: typeList(answer.given), n: answer.documents ?? 0 }) }));
  }
  if (answer.refused?.length) lines.push(el("p", { text: t("requests.refused", { types: typeList(answer.refused) }) }));
  if (answer.reason) lines.push(el("p", { text: t("requests.reason_was", { reason: answer.reason }) }));
  if (answer.grant_expires_at && request.status !== "closed") {
    lines.push(el("p", { class: "details", text: t("requests.access_until", { date: dayText(String(answer.grant_expires_at).slice(0, 10)) }) }));
  }
  return lines;
}

page("requests", async (main, ctx) => {
  if (!requireSession(ctx)) return undefined;
  const status = main.querySelector("[data-status]");
  const done = main.querySelector("[data-done]");

  function said(message) {
    done.textContent = message;
    done.hidden = false;
    announce(message);
  }

  async function openCard(request, documents) {
    const suggested = await suggestDocuments(request, documents);
    const base = `r-${request.id.slice(0, 12)}`;
    const code = await safetyCode(
      b64d(request.requesterKeys.public_encryption_key),
      b64d(request.requesterKeys.public_signing_key),
    );
    const boxes = request.types.map((type) => {
      const mine = suggested.filter((d) => d.meta.type === type);
      const id = `${base}-${type}`;
      const details = mine.length
        ? t("requests.you_have", { n: mine.length, titles: mine.map(title).join(", ") })
        : t("requests.you_have_none");
      // A paper past its expiry date (in the owner's day): the office may refuse it.
      const today = todayIn();
      const expired = mine.filter((d) => expiryState(d.meta.expiry_date, today)?.state === "expired");
      return el(
        "div",
        { class: "check" },
        el("input", { type: "checkbox", id, value: type, checked: mine.length > 0, disabled: mine.length === 0, dataset: { type }, "aria-describedby": `${id}-d` }),
        el(
          "label",
          { for: id },
          el("strong", { text: typeLabel(type) }),
          el("span", { class: "details", id: `${id}-d`, text: details }),
          ...expired.map((d) =>
            el("span", {
              class: "badge expired",
              dataset: { expiredWarning: d.id },
              text: t("requests.expired_warning", { title: title(d), date: formatDate(`${d.meta.expiry_date}T12:00:00`) }),
            }),
          ),
        ),
      );
    });
    const defaultEnd = defaultGrantEnd(request.due);
    const form = el(
      "form",
      { novalidate: true, dataset: { answer: request.id } },
      el("fieldset", {}, el("legend", { text: t("requests.what_you_give") }), ...boxes),
      el(
        "div",
        { class: "field" },
        el("label", { for: `${base}-reason`, text: t("requests.reason_label") }),
        el("textarea", { id: `${base}-reason`, rows: 2, dataset: { reason: "" } }),
      ),
      el(
        "div",
        { class: "field" },
        el("label", { for: `${base}-end`, text: t("requests.end_label") }),
        el("input", { type: "date", id: `${base}-end`, value: defaultEnd, dataset: { end: "" }, "aria-describedby": `${base}-end-hint` }),
        el("p", { class: "hint", id: `${base}-end-hint`, text: t("requests.end_hint", { date: dayText(defaultEnd) }) }),
      ),
      el("p", { class: "error", role: "alert", dataset: { error: "" }, hidden: true }),
      el(
        "div",
        { class: "actions" },
        el("button", { type: "submit", class: "primary", dataset: { give: "" }, text: t("requests.give") }),
        el("button", { type: "button", class: "danger", dataset: { refuseAll: "" }, text: t("requests.refuse_all") }),
      ),
    );
    const reasonOf = () => form.querySelector("[data-reason]").value;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      showError(form, "");
      const ticked = [...form.querySelectorAll("input[data-type]")].filter((box) => box.checked).map((box) => box.value);
      if (!ticked.length) {
        showError(form, t("requests.tick_one"));
        return;
      }
      const refuseTypes = request.types.filter((type) => !ticked.includes(type));
      try {
        const result = await busy(form, () =>
          fulfil(request.id, { refuseTypes, reason: reasonOf(), expires: form.querySelector("[data-end]").value || null }),
        );
        said(t("requests.given_done", { who: request.requester, n: result.documents, date: dayText(result.expiresAt.toISOString().slice(0, 10)) }));
        await load();
      } catch (error) {
        showError(form, messageFor(error, { 409: "requests.already_answered" }));
      }
    });
    form.querySelector("[data-refuse-all]").addEventListener("click", async () => {
      showError(form, "");
      try {
        await busy(form, () => refuse(request.id, { reason: reasonOf() }));
        said(t("requests.refused_done", { who: request.requester }));
        await load();
      } catch (error) {
        showError(form, messageFor(error, { 409: "requests.already_answered" }));
      }
    });
    return el(
      "li",
      { class: "received-grant", dataset: { request: request.id, state: request.status } },
      el(
        "div",
        { class: "shared-file" },
        ...askedLines(request),
        el("p", { class: "details" }, t("requests.their_code", { who: request.requester }), " ", el("strong", { class: "safety-code-inline", text: code })),
        form,
      ),
    );
  }

  function answeredCard(request) {
    const end =
      request.grantId &&
      request.status !== "closed" &&
      el("button", {
        type: "button",
        class: "danger",
        text: t("requests.end_access"),
        "aria-label": t("requests.end_access_named", { who: request.requester }),
        dataset: { close: request.id },
        onclick: async (event) => {
          event.currentTarget.disabled = true;
          showError(main, "");
          try {
            await closeRequest(request.id);
            said(t("requests.ended", { who: request.requester }));
            await load();
          } catch (error) {
            event.currentTarget.disabled = false;
            showError(main, messageFor(error));
          }
        },
      });
    return el(
      "li",
      { dataset: { request: request.id, state: request.status } },
      el("div", { class: "shared-file" }, ...askedLines(request), ...answerLines(request)),
      end ? el("div", { class: "file-actions" }, end) : null,
    );
  }

  async function load() {
    const requests = (await listRequests()).filter((r) => r.direction === "incoming");
    const waiting = requests.filter((r) => r.status === "open");
    const documents = waiting.length ? await listDocuments() : [];
    const openCards = [];
    for (const request of waiting) openCards.push(await openCard(request, documents));
    if (ctx.signal.aborted) return;
    main.querySelector("[data-open]").replaceChildren(...openCards);
    main.querySelector("[data-none-open]").hidden = openCards.length > 0;
    const answered = requests.filter((r) => r.status !== "open").map(answeredCard);
    main.querySelector("[data-answered]").replaceChildren(...answered);
    main.querySelector("[data-none-answered]").hidden = answered.length > 0;
    status.textContent = "";
  }

  try {
    await load();
  } catch (error) {
    status.textContent = "";
    showError(main, messageFor(error));
  }
  return undefined;
});
