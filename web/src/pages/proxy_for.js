// Acting for someone inside one mandate: the banner says so on every page until "Stop acting".
// The proxy sees the papers in scope and, if the mandate allows it, adds papers for the person.
import { t } from "../i18n.js";
import {
  actingBlob,
  actingDocuments,
  actingUpload,
  mandatesReceived,
  mayAdd,
  refreshProxyBanner,
  startActing,
  termsOf,
} from "../proxy.js";
import { page, requireSession } from "../shell.js";
import { announce, busy, clearError, el, messageFor, showError } from "../ui.js";

page("proxy_for", async (main, ctx) => {
  if (!requireSession(ctx)) return undefined;
  const status = main.querySelector("[data-status]");
  const viewer = main.querySelector("[data-viewer]");
  const viewStatus = main.querySelector("[data-view-status]");
  const urls = new Set();
  const revokeAll = () => {
    for (const url of urls) URL.revokeObjectURL(url);
    urls.clear();
  };

  async function show(doc, name) {
    showError(main, "");
    viewStatus.textContent = t("document.opening");
    try {
      const blob = await actingBlob(doc, { signal: ctx.signal });
      viewStatus.textContent = "";
      revokeAll();
      const url = URL.createObjectURL(blob);
      urls.add(url);
      let view;
      if (blob.type.startsWith("image/")) view = el("img", { src: url, alt: t("document.image_of", { name }) });
      else if (blob.type === "application/pdf" || blob.type === "text/plain") view = el("iframe", { src: url, title: name });
      else view = el("p", { text: t("document.cannot_show") });
      viewer.replaceChildren(view);
      viewer.hidden = false;
      announce(t("meeting.shown", { name }));
    } catch (error) {
      viewStatus.textContent = "";
      if (error?.name !== "AbortError") showError(main, messageFor(error));
    }
  }

  async function listPapers(mandate) {
    const docs = mandate.actions.includes("view") ? await actingDocuments() : [];
    if (ctx.signal.aborted) return;
    main.querySelector("[data-acting-docs]").replaceChildren(
      ...docs.map((doc) => {
        const name = doc.meta.title || doc.meta.file_name || t("documents.untitled");
        return el(
          "li",
          { dataset: { id: doc.id } },
          el("h3", { text: name }),
          el("p", { class: "details", text: t(`types.${doc.meta.type || "other"}`) }),
          el("button", { type: "button", class: "primary", onclick: () => show(doc, name) }, t("meeting.show", { name })),
        );
      }),
    );
    main.querySelector("[data-acting-empty]").hidden = docs.length > 0;
  }

  function wireAdd(mandate) {
    const section = main.querySelector("[data-add]");
    const form = section.querySelector("form[data-add-form]");
    const select = form.querySelector("#add-type");
    // Only the kinds of papers the owner put in the mandate.
    for (const group of [...select.querySelectorAll("optgroup")]) {
      if (!mandate.descriptor.scope.categories.includes(group.dataset.category)) group.remove();
    }
    if (!mandate.actions.includes("upload") || !select.options.length) return;
    section.hidden = false;
    const addStatus = form.querySelector("[data-add-status]");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearError(form);
      const file = form.querySelector("#add-file").files?.[0];
      if (!file) {
        showError(form, t("upload.no_file"));
        form.querySelector("#add-file").focus();
        return;
      }
      if (!mayAdd(select.value)) {
        showError(form, t("proxy.not_in_scope"));
        return;
      }
      await busy(form, async () => {
        addStatus.textContent = t("proxy.adding");
        try {
          await actingUpload(file, { type: select.value, title: form.querySelector("#add-name").value.trim() }, { signal: ctx.signal });
          form.reset();
          addStatus.textContent = t("proxy.added", { owner: mandate.owner.handle });
          await listPapers(mandate);
        } catch (error) {
          addStatus.textContent = "";
          showError(form, messageFor(error));
        }
      });
    });
  }

  try {
    const mandate = (await mandatesReceived()).find((m) => m.id === main.dataset.mandateId);
    if (!mandate) {
      status.textContent = "";
      showError(main, t("proxy.ended_or_unknown"));
      return undefined;
    }
    startActing(mandate);
    const owner = mandate.owner.handle;
    main.querySelector("[data-acting-title]").textContent = t("proxy.acting_title", { owner });
    document.title = `${t("proxy.acting_title", { owner })} – ${document.title.split(" – ").pop()}`;
    const terms = termsOf(mandate.descriptor);
    main.querySelector("[data-terms]").replaceChildren(
      ...[terms.what, terms.why, terms.until].map((line) => el("li", { text: line })),
    );
    await listPapers(mandate);
    if (ctx.signal.aborted) return revokeAll;
    wireAdd(mandate);
    status.textContent = "";
    main.querySelector("[data-acting]").hidden = false;
    refreshProxyBanner();
  } catch (error) {
    status.textContent = "";
    showError(main, messageFor(error));
  }
  return revokeAll;
});
