// One document: details, show it decrypted (from a blob: URL, never saved unless the person
// asks), save a copy, versions, add a newer version, delete.
import { formatBytes, formatDate, t } from "../i18n.js";
import { page, requireSession } from "../shell.js";
import { announce, el, messageFor, showError } from "../ui.js";
import { deleteDocument, fetchPlaintext, versions } from "../vault.js";

page("document", async (main, ctx) => {
  if (!requireSession(ctx)) return undefined;
  const id = main.dataset.documentId;
  const status = main.querySelector("[data-status]");
  const viewStatus = main.querySelector("[data-view-status]");
  const viewer = main.querySelector("[data-viewer]");
  const urls = new Set();
  const revokeAll = () => {
    for (const url of urls) URL.revokeObjectURL(url);
    urls.clear();
  };

  let detail;
  try {
    detail = await versions(id);
  } catch (error) {
    status.textContent = "";
    showError(main, messageFor(error));
    return undefined;
  }
  if (ctx.signal.aborted) return undefined;
  const current = detail.versions.at(-1);
  const title = current.meta.title || current.meta.file_name || t("documents.untitled");
  main.querySelector("[data-doc-title]").textContent = title;
  document.title = `${title} – ${document.title.split(" – ").pop()}`;
  const fact = (name, value) => {
    main.querySelector(`[data-fact="${name}"]`).textContent = value;
  };
  fact("type", t(`types.${current.meta.type || "other"}`));
  fact("expiry", current.meta.expiry_date ? formatDate(current.meta.expiry_date) : t("document.no_expiry"));
  fact("file", `${current.meta.file_name || ""} (${formatBytes(current.size)})`);
  fact("added", formatDate(current.createdAt));
  const addedBy = main.querySelector("[data-added-by]");
  addedBy.textContent = current.addedBy ? t("documents.added_by", { proxy: current.addedBy }) : "";
  addedBy.hidden = !current.addedBy;
  main.querySelector("[data-new-version]").setAttribute("href", `/documents/new?replace=${id}`);
  status.textContent = "";
  main.querySelector("[data-doc]").hidden = false;

  async function decrypt(version) {
    viewStatus.textContent = t("document.opening");
    const blob = await fetchPlaintext(id, version, {
      signal: ctx.signal,
      onProgress: (done, total, state = {}) => {
        viewStatus.textContent = state.waiting
          ? t("document.waiting")
          : t("document.downloading", { percent: Math.floor((done / Math.max(total, 1)) * 100) });
      },
    });
    viewStatus.textContent = "";
    return blob;
  }

  async function show(version) {
    showError(main, "");
    try {
      const blob = await decrypt(version);
      revokeAll();
      const url = URL.createObjectURL(blob);
      urls.add(url);
      const name = version.meta.title || version.meta.file_name || t("documents.untitled");
      let view;
      if (blob.type.startsWith("image/")) {
        view = el("img", { src: url, alt: t("document.image_of", { name }) });
      } else if (blob.type === "application/pdf" && navigator.pdfViewerEnabled === false) {
        // Chrome on Android (and some other browsers) cannot show a PDF inside a page: offer
        // to open it in the phone's PDF app, or to save it.
        view = el(
          "div",
          { class: "pdf-fallback", dataset: { pdfFallback: "" } },
          el("p", { text: t("document.pdf_no_viewer") }),
          el(
            "div",
            { class: "actions" },
            el("a", { class: "button primary", href: url, target: "_blank", rel: "noopener", dataset: { pdfOpen: "" } }, t("document.pdf_open")),
            el("button", { type: "button", dataset: { pdfSave: "" }, onclick: () => save(version) }, t("document.pdf_save")),
          ),
        );
      } else if (blob.type === "application/pdf" || blob.type === "text/plain") {
        view = el("iframe", { src: url, title: name });
      } else {
        view = el("p", { text: t("document.cannot_show") });
      }
      viewer.replaceChildren(view);
      viewer.hidden = false;
      announce(t("document.shown", { version: version.version }));
    } catch (error) {
      viewStatus.textContent = "";
      if (error?.name !== "AbortError") showError(main, messageFor(error));
    }
  }

  async function save(version) {
    showError(main, "");
    try {
      const blob = await decrypt(version);
      const url = URL.createObjectURL(blob);
      urls.add(url);
      const link = el("a", { href: url, download: version.meta.file_name || "document", hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
    } catch (error) {
      viewStatus.textContent = "";
      if (error?.name !== "AbortError") showError(main, messageFor(error));
    }
  }

  // The expiry date for the phone's calendar: the file is made here, on click (the `ics`
  // package is a chunk of its own), and holds the title and the date in clear.
  const icsBox = main.querySelector("[data-ics-box]");
  if (current.meta.expiry_date && /^\d{4}-\d{2}-\d{2}$/.test(current.meta.expiry_date)) {
    const button = icsBox.querySelector("[data-ics]");
    button.textContent = t("document.ics");
    icsBox.querySelector("[data-ics-hint]").textContent = t("document.ics_hint");
    button.addEventListener("click", async () => {
      showError(main, "");
      try {
        const { expiryCalendar } = await import("../ics.js");
        const text = expiryCalendar({
          uid: `expiry-${id}@wallet`,
          summary: t("document.ics_event", { title }),
          description: t("document.ics_hint"),
          day: current.meta.expiry_date,
        });
        const url = URL.createObjectURL(new Blob([text], { type: "text/calendar" }));
        const link = el("a", { href: url, download: `${title.replace(/[\\/:*?"<>|]/g, "_")}.ics`, hidden: true });
        document.body.append(link);
        link.click();
        link.remove();
        urls.add(url);
      } catch (error) {
        showError(main, messageFor(error));
      }
    });
    icsBox.hidden = false;
  }

  main.querySelector("[data-show]").addEventListener("click", () => show(current));
  main.querySelector("[data-download]").addEventListener("click", () => save(current));

  const list = main.querySelector("[data-versions]");
  list.replaceChildren(
    ...[...detail.versions].reverse().map((version) =>
      el(
        "li",
        { dataset: { version: String(version.version) } },
        el("strong", { text: t("documents.version", { n: version.version }) }),
        " – ",
        formatDate(version.createdAt),
        ` (${formatBytes(version.size)}) `,
        version.addedBy ? `${t("documents.added_by", { proxy: version.addedBy })} ` : "",
        el("button", {
          type: "button",
          class: "small-inline",
          text: t("document.show_version", { n: version.version }),
          onclick: () => show(version),
        }),
      ),
    ),
  );

  main.querySelector("[data-delete]").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    try {
      await deleteDocument(id);
      revokeAll();
      await ctx.navigate("/documents", { replace: true });
      announce(t("document.deleted"));
    } catch (error) {
      button.disabled = false;
      showError(main, messageFor(error));
    }
  });

  // Leaving the page: the decrypted copy goes away with it.
  return () => {
    viewer.replaceChildren();
    revokeAll();
  };
});
