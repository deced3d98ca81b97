// Acting for someone inside one mandate: the banner says so on every page until "Stop acting".
// The proxy sees the papers in scope and, if the mandate allows it, adds papers for the person.
import { formatDate, t } from "../i18n.js";
import { printOnly, qrSvg } from "../links.js";
import {
  actingBlob,
  actingDocuments,
  checkMandateHead,
  actingShare,
  actingUpload,
  mandatesReceived,
  mayAdd,
  refreshProxyBanner,
  startActing,
  termsOf,
} from "../proxy.js";
import { getJson } from "../api.js";
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

  // A one-time mandate ends on the server with its first view, upload or link (whatever the
  // client does): say so, and offer nothing more that would only be refused.
  let used = false;
  function usedUp(mandate) {
    if (mandate.kind !== "once" || used) return;
    used = true;
    for (const button of main.querySelectorAll("[data-acting-docs] button")) button.disabled = true;
    for (const form of main.querySelectorAll("form[data-add-form], form[data-share-form]")) form.hidden = true;
    const note = el("p", { class: "success", role: "status", dataset: { onceUsed: "" } }, t("proxy.once_done", { owner: mandate.owner.handle }));
    main.querySelector("[data-terms]")?.after(note);
    announce(note.textContent);
  }

  async function show(doc, name, mandate) {
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
      usedUp(mandate);
      refreshDone(mandate);
    } catch (error) {
      viewStatus.textContent = "";
      if (error?.name !== "AbortError") showError(main, messageFor(error));
    }
  }

  // What this proxy did under the mandate (`wallet proxy actions`), with the papers' names where
  // this page knows them. Listing the papers is routine and left out.
  const titles = new Map();
  async function listDone(mandate) {
    const actions = await getJson(`/mandates/${encodeURIComponent(mandate.id)}/actions`, { signal: ctx.signal });
    const shown = actions.filter((action) => action.event !== "mandate_listed").reverse();
    main.querySelector("[data-done-list]").replaceChildren(
      ...shown.map((action) => {
        const name = titles.get(action.subject_id);
        const key = `proxy.did.${action.event.replace(/^mandate_/, "")}${name ? "_named" : ""}`;
        return el("li", { text: t("proxy.did.line", { date: formatDate(action.at), what: t(key, { name }) }) });
      }),
    );
    main.querySelector("[data-done-empty]").hidden = shown.length > 0;
  }
  const refreshDone = (mandate) => listDone(mandate).catch(() => undefined);

  async function listPapers(mandate) {
    const docs = mandate.actions.includes("view") ? await actingDocuments() : [];
    if (ctx.signal.aborted) return;
    for (const doc of docs) titles.set(doc.id, doc.meta.title || doc.meta.file_name || t("documents.untitled"));
    main.querySelector("[data-share-docs]").replaceChildren(
      ...docs.map((doc) =>
        el(
          "label",
          {},
          el("input", { type: "checkbox", name: "share-documents", value: doc.id }),
          ` ${doc.meta.title || doc.meta.file_name || t("documents.untitled")}`,
        ),
      ),
    );
    main.querySelector("[data-acting-docs]").replaceChildren(
      ...docs.map((doc) => {
        const name = doc.meta.title || doc.meta.file_name || t("documents.untitled");
        return el(
          "li",
          { dataset: { id: doc.id } },
          el("h3", { text: name }),
          el("p", { class: "details", text: t(`types.${doc.meta.type || "other"}`) }),
          el("button", { type: "button", class: "primary", onclick: () => show(doc, name, mandate) }, t("meeting.show", { name })),
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
          if (mandate.kind === "once") usedUp(mandate);
          else await listPapers(mandate);
          refreshDone(mandate);
        } catch (error) {
          addStatus.textContent = "";
          showError(form, messageFor(error));
        }
      });
    });
  }

  function wireShare(mandate) {
    const section = main.querySelector("[data-share]");
    if (!mandate.actions.includes("share")) return;
    section.hidden = false;
    const form = section.querySelector("form[data-share-form]");
    const shareStatus = form.querySelector("[data-share-status]");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearError(form);
      const ids = [...form.querySelectorAll('input[name="share-documents"]:checked')].map((i) => i.value);
      if (!ids.length) {
        showError(form, t("share.nothing"));
        form.querySelector('input[name="share-documents"]')?.focus();
        return;
      }
      const pin = form.querySelector("#share-pin").value.trim() || null;
      await busy(form, async () => {
        shareStatus.textContent = t("share.working");
        try {
          const link = await actingShare(ids, { purpose: form.querySelector("#share-purpose").value.trim(), pin });
          shareStatus.textContent = "";
          form.hidden = true;
          await showLink(section, link);
          usedUp(mandate);
          refreshDone(mandate);
        } catch (error) {
          shareStatus.textContent = "";
          showError(form, messageFor(error));
        }
      });
    });
  }

  async function showLink(section, link) {
    const result = section.querySelector("[data-share-result]");
    section.querySelector("[data-share-summary]").textContent = t("share.summary_once", {
      n: link.documents,
      date: formatDate(link.expiresAt),
    });
    section.querySelector("[data-share-qr]").replaceChildren(await qrSvg(link.url, t("share.qr_label")));
    const input = section.querySelector("[data-share-url]");
    input.value = link.url;
    const copied = section.querySelector("[data-share-copied]");
    section.querySelector("[data-share-copy]").addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(link.url);
        copied.textContent = t("share.copied");
      } catch {
        input.focus();
        input.select();
        copied.textContent = t("share.copy_by_hand");
      }
    });
    section.querySelector("[data-share-print]").addEventListener("click", () => printOnly(result));
    result.hidden = false;
    result.querySelector("h3").focus();
    announce(t("share.ready"));
  }

  try {
    const mandate = (await mandatesReceived()).find((m) => m.id === main.dataset.mandateId);
    if (!mandate) {
      status.textContent = "";
      showError(main, t("proxy.ended_or_unknown"));
      return undefined;
    }
    // Before anything is shown or done: the owner has not taken this mandate back.
    await checkMandateHead(mandate);
    startActing(mandate);
    const owner = mandate.owner.handle;
    main.querySelector("[data-acting-title]").textContent = t("proxy.acting_title", { owner });
    document.title = `${t("proxy.acting_title", { owner })} – ${document.title.split(" – ").pop()}`;
    const terms = termsOf(mandate.descriptor);
    main.querySelector("[data-terms]").replaceChildren(
      ...[terms.what, terms.why, terms.until].map((line) => el("li", { text: line })),
    );
    await listPapers(mandate);
    await refreshDone(mandate);
    if (ctx.signal.aborted) return revokeAll;
    wireAdd(mandate);
    wireShare(mandate);
    status.textContent = "";
    main.querySelector("[data-acting]").hidden = false;
    refreshProxyBanner();
  } catch (error) {
    status.textContent = "";
    showError(main, messageFor(error));
  }
  return revokeAll;
});
