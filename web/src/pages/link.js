// The link page /s/<id>#<secret>: for someone who got a link, with no account. It shows who
// shared, for what and until when BEFORE anything is used; then, on request, opens the link
// (one use), lists the documents and lets the person view, save or print them.
// The secret after # stays in this browser: it is never sent, and the page has no referrer.
import { safetyCode } from "../grants.js";
import { formatBytes, locale, t } from "../i18n.js";
import {
  canStream,
  downloadItem,
  KEEP_IN_PAGE_MAX,
  openLink,
  parseLinkLocation,
  previewLink,
  safeFileName,
  streamItem,
} from "../links.js";
import { Refused } from "../vaulthead.js";
import { page } from "../shell.js";
import { announce, el, messageFor } from "../ui.js";

// What this tab already opened, by link id: a language change re-mounts the page, and a
// one-use link cannot be opened a second time.
const openedLinks = new Map();

/**
 * The link of this page, read once from the address. The secret then leaves the address bar
 * (history.replaceState): the browser's history list, its address-bar suggestions and synced
 * history never hold it, so nobody who uses this browser later finds the link there. This tab's
 * own history entry keeps it in its state, so a reload of the tab still shows the same link.
 */
function readLink() {
  const fromAddress = parseLinkLocation();
  if (fromAddress) {
    const fragment = location.hash.slice(1);
    history.replaceState({ ...history.state, linkFragment: fragment }, "", location.pathname + location.search);
    return fromAddress;
  }
  const kept = history.state?.linkFragment;
  return kept ? parseLinkLocation({ pathname: location.pathname, hash: `#${kept}` }) : null;
}

export function formatMoment(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  return new Intl.DateTimeFormat(locale(), { dateStyle: "full", timeStyle: "short" }).format(date);
}

const STATE_KEYS = {
  used: "link.state_used",
  expired: "link.state_expired",
  revoked: "link.state_revoked",
  locked: "link.state_locked",
};

/** The plain message for a refused redeem, in the page's language. */
export function redeemMessage(error) {
  const text = String(error?.message || "");
  if (error?.status === 403 && error.code === "wrong_pin") {
    const left = /(\d+)/.exec(text)?.[1] ?? "?";
    return t(left === "1" ? "link.wrong_pin_one" : "link.wrong_pin", { left });
  }
  if (error?.status === 403 && error.code === "pin_needed") return t("link.pin_needed");
  if (error?.status === 423) return t("link.state_locked");
  if (error?.status === 410) {
    if (text.includes("expired")) return t("link.state_expired");
    if (text.includes("stopped sharing")) return t("link.state_revoked");
    return t("link.state_used");
  }
  if (error?.status === 404) return t("link.does_not_work");
  return messageFor(error);
}

page("link", async (main, ctx) => {
  const status = main.querySelector("[data-status]");
  const error = main.querySelector("[data-error]");
  const formError = main.querySelector("[data-form-error]");
  const say = (box, message) => {
    box.textContent = message;
    box.hidden = !message;
  };
  const link = readLink();
  if (!link) {
    status.textContent = "";
    main.querySelector("[data-nolink]").hidden = false;
    return undefined;
  }
  const urls = new Set();
  const cleanup = () => {
    main.querySelector("[data-viewer]").replaceChildren();
    main.querySelector("[data-print-area]").replaceChildren();
    for (const url of urls) URL.revokeObjectURL(url);
    urls.clear();
  };

  if (openedLinks.has(link.linkId)) {
    status.textContent = "";
    showOpened(main, ctx, openedLinks.get(link.linkId), urls);
    return cleanup;
  }

  let preview;
  try {
    preview = await previewLink(link);
  } catch (problem) {
    status.textContent = "";
    say(error, problem?.status === 404 ? t("link.does_not_work") : messageFor(problem));
    return cleanup;
  }
  if (ctx.signal.aborted) return cleanup;
  status.textContent = "";
  const form = main.querySelector("form[data-open]");
  if (preview.state !== "active") {
    // The server names nobody for a dead link: only the plain message for its state.
    main.querySelector(".link-facts").hidden = true;
    main.querySelector("[data-safety-hint]").hidden = true;
    const dead = main.querySelector("[data-dead]");
    dead.textContent = t(STATE_KEYS[preview.state] || "link.does_not_work");
    dead.hidden = false;
    form.hidden = true;
    main.querySelector("[data-preview]").hidden = false;
    announce(dead.textContent);
    return cleanup;
  }
  const fact = (name, value) => {
    main.querySelector(`[data-fact="${name}"]`).textContent = value;
  };
  // The names were checked against the accounts the server knows made the link (previewLink).
  fact("owner", preview.proxy ? t("link.by_proxy", { proxy: preview.proxy, owner: preview.owner }) : preview.owner);
  // The sender's safety code (and the owner's, for a proxy), to compare with their wallet's.
  const { sender, onBehalfOf } = preview.senders;
  const codes = [];
  for (const person of [sender, onBehalfOf].filter(Boolean)) {
    const code = await safetyCode(person.encryptionKey, person.signingKey);
    codes.push(onBehalfOf ? t("link.safety_code_of", { handle: person.handle, code }) : code);
  }
  const codeBox = main.querySelector('[data-fact="safety-code"]');
  codeBox.replaceChildren(...codes.map((text) => el("span", { class: "safety-code-inline link-code", text })));
  fact("purpose", preview.purpose || t("link.no_purpose"));
  fact("documents", t("link.documents_count", { n: preview.documents }));
  fact("expires", formatMoment(preview.expiresAt));
  main.querySelector("[data-preview]").hidden = false;

  const pinField = main.querySelector("[data-pin-field]");
  const pinInput = main.querySelector("#link-pin");
  pinField.hidden = !preview.pinRequired;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say(formError, "");
    const pin = preview.pinRequired ? pinInput.value.trim() : null;
    if (preview.pinRequired && !/^\d{4,8}$/.test(pin)) {
      say(formError, t("link.pin_format"));
      pinInput.setAttribute("aria-invalid", "true");
      pinInput.focus();
      return;
    }
    pinInput.removeAttribute("aria-invalid");
    const button = main.querySelector("[data-open-button]");
    button.disabled = true;
    button.textContent = t("link.opening");
    try {
      const opened = await openLink(link, pin, preview.senders);
      openedLinks.set(link.linkId, opened);
      main.querySelector("[data-preview]").hidden = true;
      main.querySelector("[data-safe]").hidden = true;
      showOpened(main, ctx, opened, urls);
    } catch (problem) {
      button.disabled = false;
      button.textContent = t("link.open");
      say(formError, redeemMessage(problem));
      // Refused on the owner's signed word (vaulthead.js): trying again cannot help.
      if (problem instanceof Refused) form.querySelector(".actions").hidden = true;
      if (problem?.status === 403 || problem?.status === 423 || problem?.status === 410) {
        if (problem.status !== 403) form.querySelector(".actions").hidden = true;
        else pinInput.focus();
      }
    }
  });
  return cleanup;
});

/** The opened link: the list of files, downloaded and unlocked one after the other. */
function showOpened(main, ctx, opened, urls) {
  main.querySelector("[data-preview]").hidden = true;
  main.querySelector("[data-safe]").hidden = true;
  const who = opened.proxy ? t("link.by_proxy", { proxy: opened.proxy, owner: opened.owner }) : opened.owner;
  main.querySelector("[data-heading]").textContent = opened.purpose
    ? t("link.opened_heading_purpose", { owner: who, purpose: opened.purpose })
    : t("link.opened_heading", { owner: who });
  main.querySelector("[data-opened-note]").textContent =
    opened.usesLeft > 0 ? t("link.opened_uses_left", { n: opened.usesLeft }) : t("link.opened_last");
  const list = main.querySelector("[data-files]");
  const fileStatus = main.querySelector("[data-file-status]");
  const viewer = main.querySelector("[data-viewer]");
  const printArea = main.querySelector("[data-print-area]");
  const used = new Set();
  opened.files ??= new Map(); // document_id -> Promise<Blob>

  const rows = opened.items.map((item) => {
    const title = item.meta?.title || item.meta?.file_name || t("documents.untitled");
    const name = safeFileName(item.meta, used);
    const state = el("span", { class: "details", dataset: { fileState: "" }, text: t("link.file_waiting") });
    const buttons = [
      el("button", { type: "button", dataset: { view: "" }, text: t("link.view"), "aria-label": t("link.view_named", { name: title }) }),
      el("button", { type: "button", dataset: { save: "" }, text: t("link.save"), "aria-label": t("link.save_named", { name: title }) }),
      el("button", { type: "button", dataset: { print: "" }, text: t("link.print"), "aria-label": t("link.print_named", { name: title }) }),
    ];
    const li = el(
      "li",
      { dataset: { documentId: item.document_id } },
      el(
        "div",
        { class: "shared-file" },
        el("span", { class: "title", text: title }),
        el("span", { class: "details", text: `${t(`types.${item.meta?.type || "other"}`)} · ${formatBytes(Number(item.blob_size) || 0)}` }),
        state,
      ),
      el("div", { class: "file-actions" }, ...buttons),
    );
    return { item, title, name, state, li, buttons };
  });
  list.replaceChildren(...rows.map((r) => r.li));
  main.querySelector("[data-opened]").hidden = false;

  const profile = Object.entries(opened.profile || {});
  if (profile.length) {
    main.querySelector("[data-profile-list]").replaceChildren(
      ...profile.flatMap(([name, value]) => [
        el("dt", { text: t(`link.field.${name}`) === `link.field.${name}` ? name : t(`link.field.${name}`) }),
        el("dd", { text: String(value) }),
      ]),
    );
    main.querySelector("[data-profile]").hidden = false;
  }
  announce(t("link.opened_announce", { n: opened.items.length }));

  // One after the other, in the background: the download token lasts 15 minutes, and once
  // a file is here the person can view it again without the server.
  // A large file is not kept in the page when the browser can stream it: Save then writes it
  // to disk as it downloads (streamItem), and View or Print fetch it only when asked.
  const streamed = (row) => canStream() && Number(row.item.blob_size) > KEEP_IN_PAGE_MAX;
  let chain = Promise.resolve();
  const fetchInPage = (row) => {
    const job = chain.then(() =>
      downloadItem(opened, row.item, {
        onProgress: (done, total) => {
          row.state.textContent = t("link.file_progress", { percent: Math.floor((done / Math.max(total, 1)) * 100) });
        },
      }),
    );
    opened.files.set(row.item.document_id, job);
    chain = job.catch(() => undefined);
    watchFile(row);
    return job;
  };
  const watchFile = (row) => {
    opened.files
      .get(row.item.document_id)
      .then(() => {
        row.state.textContent = t("link.file_ready");
        row.li.dataset.ready = "1";
      })
      .catch((problem) => {
        row.state.textContent = problem?.i18n ? t(problem.i18n) : redeemMessage(problem);
        row.li.dataset.failed = "1";
      });
  };
  for (const row of rows) {
    if (!opened.files.has(row.item.document_id) && streamed(row)) {
      row.state.textContent = "";
      continue;
    }
    if (opened.files.has(row.item.document_id)) watchFile(row);
    else fetchInPage(row);
  }

  const blobOf = async (row) => {
    fileStatus.textContent = t("link.file_preparing", { name: row.title });
    const blob = await (opened.files.get(row.item.document_id) ?? fetchInPage(row));
    fileStatus.textContent = "";
    const url = URL.createObjectURL(blob);
    urls.add(url);
    return { blob, url };
  };
  const fail = (problem) => {
    fileStatus.textContent = problem?.i18n ? t(problem.i18n) : redeemMessage(problem);
  };
  const view = async (row) => {
    try {
      const { blob, url } = await blobOf(row);
      let shown;
      if (blob.type.startsWith("image/")) shown = el("img", { src: url, alt: t("document.image_of", { name: row.title }) });
      else if (blob.type === "application/pdf" || blob.type === "text/plain") shown = el("iframe", { src: url, title: row.title });
      else shown = el("p", { text: t("link.cannot_show") });
      viewer.replaceChildren(shown);
      viewer.hidden = false;
      viewer.scrollIntoView?.({ block: "nearest" });
      announce(t("link.shown", { name: row.title }));
    } catch (problem) {
      fail(problem);
    }
  };
  const save = async (row) => {
    if (!opened.files.has(row.item.document_id) && streamed(row)) {
      await saveStreamed(row);
      return;
    }
    try {
      const { url } = await blobOf(row);
      const anchor = el("a", { href: url, download: row.name, hidden: true });
      document.body.append(anchor);
      anchor.click();
      anchor.remove();
      announce(t("link.saved", { name: row.name }));
    } catch (problem) {
      fail(problem);
    }
  };
  const saveStreamed = async (row) => {
    const [, saveButton] = row.buttons;
    saveButton.disabled = true;
    delete row.li.dataset.failed;
    delete row.li.dataset.saved;
    try {
      await streamItem(opened, row.item, row.name, {
        onProgress: (done, total) => {
          row.state.textContent = t("link.file_progress", { percent: Math.floor((done / Math.max(total, 1)) * 100) });
        },
      });
      row.state.textContent = t("link.saved", { name: row.name });
      row.li.dataset.saved = "1";
      announce(t("link.saved", { name: row.name }));
    } catch (problem) {
      row.state.textContent = problem?.i18n ? t(problem.i18n) : redeemMessage(problem);
      row.li.dataset.failed = "1";
      fail(problem);
    } finally {
      saveButton.disabled = false;
    }
  };
  const print = async (row) => {
    try {
      const { blob, url } = await blobOf(row);
      if (blob.type.startsWith("image/")) {
        printArea.replaceChildren(el("img", { src: url, alt: row.title }));
        document.body.classList.add("printing-file");
        await new Promise((resolve) => setTimeout(resolve, 50));
        window.print();
        document.body.classList.remove("printing-file");
        printArea.replaceChildren();
        return;
      }
      if (blob.type === "application/pdf" || blob.type === "text/plain") {
        const frame = el("iframe", { src: url, title: row.title });
        viewer.replaceChildren(frame);
        viewer.hidden = false;
        frame.addEventListener("load", () => {
          try {
            frame.contentWindow.print();
          } catch {
            fileStatus.textContent = t("link.print_from_viewer");
          }
        });
        return;
      }
      fileStatus.textContent = t("link.cannot_print");
    } catch (problem) {
      fail(problem);
    }
  };
  for (const row of rows) {
    const [viewButton, saveButton, printButton] = row.buttons;
    viewButton.addEventListener("click", () => view(row));
    saveButton.addEventListener("click", () => save(row));
    printButton.addEventListener("click", () => print(row));
  }
  if (!ctx.signal.aborted) main.querySelector("#opened-title").focus?.();
}
