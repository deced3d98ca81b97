// Acting for someone inside one mandate: the banner says so on every page until "Stop acting".
import { t } from "../i18n.js";
import { actingBlob, actingDocuments, mandatesReceived, refreshProxyBanner, startActing, termsOf } from "../proxy.js";
import { page, requireSession } from "../shell.js";
import { announce, el, messageFor, showError } from "../ui.js";

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
    const docs = mandate.actions.includes("view") ? await actingDocuments() : [];
    if (ctx.signal.aborted) return revokeAll;

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
    status.textContent = "";
    main.querySelector("[data-acting]").hidden = false;
    refreshProxyBanner();
  } catch (error) {
    status.textContent = "";
    showError(main, messageFor(error));
  }
  return revokeAll;
});
