// Add a document (or a newer version of one): encrypt here, upload with tus, resume after a
// dropped network, then record the version with the owner's signature.
import { formatBytes, t } from "../i18n.js";
import { cleanPhoto, shrinkPhoto, sniff } from "../photo_clean.js";
import { page, requireSession } from "../shell.js";
import { announce, busy, clearError, messageFor, PlainError, showError } from "../ui.js";
import { uploadDocument, versions } from "../vault.js";
// Standing grants that cover a new version get its key too (like the CLI's wrap_new_version).
import "../grants.js";

const HEX_ID = /^[0-9a-f]{32}$/;

page("upload", async (main, ctx) => {
  if (!requireSession(ctx)) return undefined;
  const form = main.querySelector("form[data-upload]");
  const camera = form.querySelector("#camera");
  const picker = form.querySelector("#file");
  const chosen = form.querySelector("[data-chosen]");
  const progressBox = form.querySelector("[data-progress]");
  const bar = form.querySelector("#progress");
  const text = form.querySelector("[data-progress-text]");
  const cancel = form.querySelector("[data-cancel]");
  const replace = HEX_ID.test(ctx.params.get("replace") || "") ? ctx.params.get("replace") : null;
  const section = form.querySelector("[data-pages]");
  const list = form.querySelector("[data-page-list]");
  const keep = form.querySelector("#keep-details");
  // The pages chosen, in order: { id, file, photo, rotation, thumb (an object URL) }.
  let pages = [];
  let nextId = 1;
  let running = null;

  // One page, not turned: sent as it was chosen (cleaned, as before). Anything else: one PDF.
  const asPdf = () => pages.length > 1 || pages.some((p) => p.rotation);

  const render = (focus = null) => {
    list.replaceChildren();
    section.hidden = pages.length === 0;
    keep.disabled = asPdf();
    const title = form.querySelector("#title");
    if (pages.length && !title.value && !replace) title.value = pages[0].file.name.replace(/\.[^.]+$/, "");
    if (pages.length === 1 && !asPdf()) {
      const { file } = pages[0];
      chosen.textContent = t("upload.chosen", { name: file.name, size: formatBytes(file.size) });
    } else {
      chosen.textContent = pages.length ? t("capture.pages_count", { n: pages.length }) : "";
    }
    pages.forEach((entry, index) => {
      const n = index + 1;
      const item = document.createElement("li");
      item.className = "page-item";
      item.dataset.pageId = String(entry.id);
      const frame = document.createElement("div");
      frame.className = "page-thumb";
      if (entry.thumb) {
        const img = document.createElement("img");
        img.src = entry.thumb;
        img.alt = t("capture.thumb_alt", { n });
        img.style.transform = `rotate(${entry.rotation}deg)`;
        frame.append(img);
      } else {
        const img = document.createElement("img");
        img.src = "/static/img/file.svg";
        img.alt = "";
        frame.append(img);
      }
      const label = document.createElement("p");
      label.className = "page-label";
      label.textContent = entry.photo ? t("capture.page", { n }) : entry.file.name;
      const actions = document.createElement("div");
      actions.className = "page-actions";
      const button = (action, text, aria, disabled = false) => {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "small";
        b.dataset.action = action;
        b.textContent = text;
        b.setAttribute("aria-label", aria);
        b.disabled = disabled;
        actions.append(b);
        return b;
      };
      if (pages.length > 1) {
        button("up", t("capture.up"), t("capture.up_label", { n }), index === 0);
        button("down", t("capture.down"), t("capture.down_label", { n }), index === pages.length - 1);
      }
      if (entry.photo) button("turn", t("capture.turn"), t("capture.turn_label", { n }));
      button("remove", t("capture.remove"), t("capture.remove_label", { n }));
      item.append(frame, label, actions);
      list.append(item);
    });
    if (focus) {
      const [id, action] = focus;
      const item = list.querySelector(`[data-page-id="${id}"]`);
      const target =
        [...(item?.querySelectorAll("button") ?? [])].find((b) => b.dataset.action === action && !b.disabled) ??
        item?.querySelector("button:not(:disabled)") ??
        camera;
      target.focus();
    }
  };

  // A small picture of a page for the list (the original stays where the browser keeps it).
  const thumbnail = async (file) => {
    const { blob } = await shrinkPhoto(file, { longest: 240, quality: 0.7 });
    return URL.createObjectURL(blob);
  };

  const addFiles = async (files) => {
    clearError(form);
    if (!files.length) return;
    const kinds = await Promise.all(files.map((f) => sniff(f)));
    const photos = kinds.every(Boolean);
    // A PDF (or any other file) is saved on its own, never mixed with pages.
    if (!photos && (files.length > 1 || pages.length)) {
      showError(form, t("capture.file_alone"));
      return;
    }
    if (pages.some((p) => !p.photo)) {
      showError(form, t("capture.file_alone"));
      return;
    }
    for (const file of files) {
      let thumb = null;
      if (photos) {
        try {
          thumb = await thumbnail(file);
        } catch (error) {
          // A photo this browser cannot show can still be sent alone, as it is, if the person
          // keeps its details (otherwise the upload refuses it, as before).
          if (files.length === 1 && !pages.length) {
            pages.push({ id: nextId++, file, photo: false, rotation: 0, thumb: null });
            break;
          }
          showError(form, messageFor(error));
          continue;
        }
      }
      pages.push({ id: nextId++, file, photo: photos, rotation: 0, thumb });
    }
    render();
    if (pages.length > 1) announce(t("capture.pages_count", { n: pages.length }));
  };

  // The pages still being read: "Lock and save" pressed meanwhile waits for them, instead of
  // finding no file (the input is emptied at once so the same photo can be chosen again).
  let adding = Promise.resolve();
  const pick = (input) => async () => {
    const files = [...(input.files ?? [])];
    input.value = ""; // the same photo can be chosen again, and a new one adds a page
    adding = adding.catch(() => undefined).then(() => addFiles(files));
    await adding;
  };

  list.addEventListener("click", (event) => {
    const b = event.target.closest("button[data-action]");
    if (!b || running) return;
    const id = Number(b.closest("[data-page-id]").dataset.pageId);
    const index = pages.findIndex((p) => p.id === id);
    const entry = pages[index];
    const action = b.dataset.action;
    if (action === "up" || action === "down") {
      const to = action === "up" ? index - 1 : index + 1;
      if (to < 0 || to >= pages.length) return;
      [pages[index], pages[to]] = [pages[to], pages[index]];
      render([id, action]);
      announce(t("capture.moved", { n: to + 1, total: pages.length }));
    } else if (action === "turn") {
      entry.rotation = (entry.rotation + 90) % 360;
      render([id, action]);
      announce(t("capture.turned", { n: index + 1 }));
    } else if (action === "remove") {
      pages.splice(index, 1);
      if (entry.thumb) URL.revokeObjectURL(entry.thumb);
      const neighbour = pages[Math.min(index, pages.length - 1)];
      render(neighbour ? [neighbour.id, "remove"] : [0, ""]);
      announce(t("capture.removed", { n: pages.length }));
    }
  });
  const type = form.querySelector("#type");
  const typeError = form.querySelector("[data-type-error]");
  const showTypeError = (message) => {
    typeError.textContent = message;
    typeError.hidden = !message;
    if (message) type.setAttribute("aria-invalid", "true");
    else type.removeAttribute("aria-invalid");
  };
  type.addEventListener("change", () => showTypeError(""));
  camera.addEventListener("change", pick(camera));
  picker.addEventListener("change", pick(picker));
  cancel.addEventListener("click", () => running?.abort());

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(form);
    await adding.catch(() => undefined);
    // A file picked before this script was ready still counts.
    if (!pages.length) await addFiles([...(camera.files ?? []), ...(picker.files ?? [])]);
    if (!pages.length) {
      showError(form, t("upload.no_file"));
      picker.focus();
      return;
    }
    // The kind is asked, never guessed: a request for an ID card must find the ID card.
    if (!type.value) {
      showTypeError(t("upload.type_needed"));
      type.focus();
      return;
    }
    running = new AbortController();
    progressBox.hidden = false;
    cancel.hidden = false;
    bar.value = 0;
    await busy(form, async () => {
      cancel.disabled = false; // the one control that stays usable
      try {
        let cleaned;
        if (asPdf()) {
          // pdf-lib is loaded here, on this page only, when there is a PDF to make.
          const { buildPdf } = await import("../capture.js");
          const name = `${form.querySelector("#title").value.trim() || t("capture.file_name")}.pdf`;
          cleaned = await buildPdf(pages, name, (done, total) => {
            text.textContent = t("capture.preparing", { n: Math.min(done + 1, total), total });
          });
        } else {
          // Place, phone and time leave the photo here, unless kept on purpose for this upload.
          cleaned = await cleanPhoto(pages[0].file, { keep: keep.checked });
        }
        const result = await uploadDocument(
          cleaned,
          {
            type: type.value,
            title: form.querySelector("#title").value.trim(),
            expiry_date: form.querySelector("#expiry").value || null,
          },
          {
            replace,
            signal: running.signal,
            onProgress: (phase, done, total, state = {}) => {
              if (phase === "encrypt") {
                text.textContent = t("upload.locking");
                return;
              }
              const percent = total ? Math.floor((done / total) * 100) : 100;
              bar.value = percent;
              bar.setAttribute("aria-valuetext", `${percent}%`);
              text.textContent = state.waiting
                ? t("upload.waiting", { percent })
                : t("upload.sending", { percent, done: formatBytes(done), total: formatBytes(total) });
            },
          },
        );
        text.textContent = t("upload.done");
        await ctx.navigate(`/documents/${result.id}`);
      } catch (error) {
        if (error?.name === "AbortError") {
          text.textContent = t("upload.stopped");
        } else {
          text.textContent = "";
          showError(form, messageFor(error instanceof PlainError ? error : error));
        }
      } finally {
        cancel.hidden = true;
        running = null;
      }
    });
  });
  // A new version starts from the current one's details. After the handlers: reading it checks
  // the owner's signed head and can take a moment, and a button pressed meanwhile must not
  // send the form the browser's way (a reload that forgets the keys).
  if (replace) {
    main.querySelector("h1").textContent = t("upload.new_version");
    try {
      const current = (await versions(replace)).versions.at(-1);
      type.value = current.meta.type || "other";
      form.querySelector("#title").value = current.meta.title || "";
      form.querySelector("#expiry").value = current.meta.expiry_date || "";
    } catch (error) {
      showError(form, messageFor(error));
    }
  }
  return () => {
    running?.abort();
    for (const entry of pages) if (entry.thumb) URL.revokeObjectURL(entry.thumb);
  };
});
