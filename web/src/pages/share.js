// Share: pick documents, kinds or details, a purpose and an expiry; then either a link (uses,
// PIN, a big QR code to show or print, a copy button) or standing access for a person whose
// safety code the owner compares first.
import { createGrant, lookupPerson } from "../grants.js";
import { formatDate, t } from "../i18n.js";
import { createLink, expiryFrom, printOnly, qrSvg } from "../links.js";
import { page, requireSession } from "../shell.js";
import { announce, el, messageFor, showError } from "../ui.js";
import { listDocuments } from "../vault.js";

page("share", async (main, ctx) => {
  if (!requireSession(ctx)) return undefined;
  const form = main.querySelector("form[data-share]");
  const docsBox = main.querySelector("[data-docs]");
  const docsStatus = main.querySelector("[data-docs-status]");
  const preselected = new Set((ctx.params.get("documents") || "").split(",").filter(Boolean));

  const how = () => form.querySelector('input[name="how"]:checked').value;
  const syncHow = () => {
    main.querySelector("[data-link-only]").hidden = how() !== "link";
    main.querySelector("[data-person-only]").hidden = how() !== "person";
  };
  for (const radio of form.querySelectorAll('input[name="how"]')) radio.addEventListener("change", syncHow);
  if (ctx.params.get("how") === "person" || ctx.params.get("to")) {
    form.querySelector('input[value="person"]').checked = true;
    form.querySelector("#share-handle").value = ctx.params.get("to") || "";
  }
  syncHow();
  const expiry = form.querySelector("#share-expiry");
  expiry.addEventListener("change", () => {
    main.querySelector("[data-expiry-date]").hidden = expiry.value !== "date";
  });

  // The person's safety code: looked up, shown, confirmed by the owner before anything is given.
  let person = null;
  const safety = main.querySelector("[data-safety]");
  const codeOk = form.querySelector("#share-code-ok");
  const lookup = async () => {
    showError(form, "");
    person = null;
    safety.hidden = true;
    codeOk.checked = false;
    const handle = form.querySelector("#share-handle").value.trim();
    if (!handle) {
      showError(form, t("grant.handle_needed"));
      form.querySelector("#share-handle").focus();
      return null;
    }
    try {
      person = await lookupPerson(handle);
    } catch (error) {
      showError(form, error?.status === 404 ? t("grant.no_such_person", { handle }) : messageFor(error));
      return null;
    }
    main.querySelector("[data-safety-code]").textContent = person.code;
    main.querySelector("[data-safety-changed]").hidden = !person.changed;
    safety.hidden = false;
    announce(t("grant.code_shown", { code: person.code }));
    return person;
  };
  main.querySelector("[data-lookup]").addEventListener("click", lookup);
  form.querySelector("#share-handle").addEventListener("input", () => {
    person = null;
    safety.hidden = true;
  });

  try {
    const documents = await listDocuments();
    if (ctx.signal.aborted) return undefined;
    docsStatus.textContent = documents.length ? "" : t("share.no_documents");
    docsBox.replaceChildren(
      ...documents.map((doc) => {
        const title = doc.meta.title || doc.meta.file_name || t("documents.untitled");
        return el(
          "label",
          {},
          el("input", { type: "checkbox", name: "documents", value: doc.id, checked: preselected.has(doc.id) }),
          ` ${title}`,
          el("span", { class: "details", text: ` · ${t(`types.${doc.meta.type || "other"}`)}` }),
        );
      }),
    );
  } catch (error) {
    docsStatus.textContent = "";
    showError(form, messageFor(error));
  }

  const checked = (name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(form, "");
    const scope = { ids: checked("documents"), types: checked("types"), fields: checked("fields") };
    const purpose = form.querySelector("#share-purpose").value.trim();
    const submit = form.querySelector("[data-submit]");
    try {
      if (!scope.ids.length && !scope.types.length && !scope.fields.length) throw { i18n: "share.nothing" };
      const choice = expiry.value === "date" ? form.querySelector("#share-expiry-date").value : expiry.value;
      const expiresAt = expiryFrom(choice);
      submit.disabled = true;
      submit.textContent = t("share.working");
      if (how() === "link") {
        const uses = Number(form.querySelector("#share-uses").value);
        const pin = form.querySelector("#share-pin").value.trim() || null;
        const link = await createLink(scope, { uses, pin, purpose, expiresAt });
        await showLink(main, link, { uses, pin });
      } else {
        if (!purpose) throw { i18n: "grant.purpose_needed", focus: "#share-purpose" };
        if (!person) {
          if (await lookup()) form.querySelector("#share-code-ok").focus();
          return;
        }
        if (!codeOk.checked) throw { i18n: "grant.compare_first", focus: "#share-code-ok" };
        const grant = await createGrant(person.keys.handle, scope, { purpose, expiresAt });
        form.hidden = true;
        const result = main.querySelector("[data-grant-result]");
        main.querySelector("[data-grant-summary]").textContent = t("grant.created", {
          handle: grant.grantee,
          n: grant.documents,
          date: formatDate(expiresAt),
        });
        result.hidden = false;
        result.querySelector("h2").focus();
      }
    } catch (error) {
      showError(form, error?.i18n && !(error instanceof Error) ? t(error.i18n) : messageFor(error));
      if (error?.focus) form.querySelector(error.focus)?.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = t("share.submit");
    }
  });
  return undefined;
});

async function showLink(main, link, { uses, pin }) {
  main.querySelector("form[data-share]").hidden = true;
  const result = main.querySelector("[data-result]");
  main.querySelector("[data-result-summary]").textContent = t(uses === 1 ? "share.summary_once" : "share.summary", {
    n: link.documents,
    uses,
    date: formatDate(link.expiresAt),
  });
  main.querySelector("[data-qr]").replaceChildren(await qrSvg(link.url, t("share.qr_label")));
  const input = main.querySelector("[data-url]");
  input.value = link.url;
  main.querySelector("[data-pin-reminder]").hidden = !pin;
  const copied = main.querySelector("[data-copied]");
  main.querySelector("[data-copy]").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(link.url);
      copied.textContent = t("share.copied");
    } catch {
      input.focus();
      input.select();
      copied.textContent = t("share.copy_by_hand");
    }
  });
  main.querySelector("[data-print-qr]").addEventListener("click", () => printOnly(result));
  result.hidden = false;
  result.querySelector("h2").focus();
  announce(t("share.ready"));
}
