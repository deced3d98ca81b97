// Shared with me: standing grants to this account and to the organisations this person works
// for (opened with their copy of the team key, web/src/teams.js), each document and detail
// checked against the owner's signatures, shown or saved from memory.
import { ownSafetyCode, receivedBlob, receivedDocuments, receivedProfile } from "../grants.js";
import { receivedWithTeams } from "../teams.js";
import { formatBytes, formatDate, t } from "../i18n.js";
import { safeFileName } from "../links.js";
import { page, requireSession } from "../shell.js";
import { announce, el, messageFor, showError } from "../ui.js";

page("received", async (main, ctx) => {
  if (!requireSession(ctx)) return undefined;
  const status = main.querySelector("[data-status]");
  const box = main.querySelector("[data-grants]");
  const fileStatus = main.querySelector("[data-file-status]");
  const viewer = main.querySelector("[data-viewer]");
  const urls = new Set();
  main.querySelector("[data-own-code]").textContent = await ownSafetyCode();

  const blobOf = async (grant, doc) => {
    fileStatus.textContent = t("link.file_preparing", { name: doc.meta.title || doc.meta.file_name || "" });
    const blob = await receivedBlob(grant, doc, {
      signal: ctx.signal,
      onProgress: (done, total) => {
        fileStatus.textContent = t("link.file_progress", { percent: Math.floor((done / Math.max(total, 1)) * 100) });
      },
    });
    fileStatus.textContent = "";
    const url = URL.createObjectURL(blob);
    urls.add(url);
    return { blob, url };
  };

  async function section(grant) {
    const heading = el("h2", {
      text: grant.team
        ? t("grant.received_for_team", { owner: grant.owner.handle, team: grant.organisation.display_name, purpose: grant.descriptor.purpose })
        : t("grant.received_from", { owner: grant.owner.handle, purpose: grant.descriptor.purpose }),
    });
    const facts = el("p", {
      class: "details",
      text: grant.descriptor.expires_at ? t("share.until", { date: formatDate(grant.descriptor.expires_at) }) : t("grant.no_end"),
    });
    const list = el("ul", { class: "doc-list shared-list" });
    const docs = await receivedDocuments(grant, grant.team);
    const used = new Set();
    for (const doc of docs) {
      const title = doc.meta.title || doc.meta.file_name || t("documents.untitled");
      const name = safeFileName(doc.meta, used);
      const view = async () => {
        try {
          const { blob, url } = await blobOf(grant, doc);
          const shown = blob.type.startsWith("image/")
            ? el("img", { src: url, alt: t("document.image_of", { name: title }) })
            : blob.type === "application/pdf" || blob.type === "text/plain"
              ? el("iframe", { src: url, title })
              : el("p", { text: t("link.cannot_show") });
          viewer.replaceChildren(shown);
          viewer.hidden = false;
          announce(t("link.shown", { name: title }));
        } catch (error) {
          fileStatus.textContent = error?.i18n ? t(error.i18n) : messageFor(error);
        }
      };
      const save = async () => {
        try {
          const { url } = await blobOf(grant, doc);
          const anchor = el("a", { href: url, download: name, hidden: true });
          document.body.append(anchor);
          anchor.click();
          anchor.remove();
        } catch (error) {
          fileStatus.textContent = error?.i18n ? t(error.i18n) : messageFor(error);
        }
      };
      list.append(
        el(
          "li",
          { dataset: { documentId: doc.documentId } },
          el(
            "div",
            { class: "shared-file" },
            el("span", { class: "title", text: title }),
            el("span", { class: "details", text: `${t(`types.${doc.meta.type || "other"}`)} · ${formatBytes(doc.size)}` }),
          ),
          el(
            "div",
            { class: "file-actions" },
            el("button", { type: "button", dataset: { view: "" }, text: t("link.view"), "aria-label": t("link.view_named", { name: title }), onclick: view }),
            el("button", { type: "button", dataset: { save: "" }, text: t("link.save"), "aria-label": t("link.save_named", { name: title }), onclick: save }),
          ),
        ),
      );
    }
    const details = (grant.descriptor.scope.fields || []).length ? await receivedProfile(grant, grant.team) : {};
    const names = Object.keys(details).sort();
    const detailList = names.length
      ? el(
          "dl",
          { class: "shared-details", dataset: { fields: "" } },
          names.flatMap((name) => [el("dt", { text: t(`link.field.${name}`) }), el("dd", { text: details[name] })]),
        )
      : null;
    if (!docs.length && !names.length) list.append(el("li", { class: "hint", text: t("grant.nothing_yet") }));
    return el("section", { class: "received-grant", dataset: { grantId: grant.id, team: grant.team ? "1" : "" } }, heading, facts, detailList, list);
  }

  try {
    const grants = (await receivedWithTeams()).filter((g) => g.state === "active");
    if (ctx.signal.aborted) return undefined;
    const sections = [];
    for (const grant of grants) sections.push(await section(grant));
    box.replaceChildren(...sections);
    main.querySelector("[data-none]").hidden = grants.length > 0;
    status.textContent = "";
  } catch (error) {
    status.textContent = "";
    showError(main, error?.i18n ? t(error.i18n, error.vars) : messageFor(error));
  }
  return () => {
    viewer.replaceChildren();
    for (const url of urls) URL.revokeObjectURL(url);
  };
});
