// Add a document (or a newer version of one): encrypt here, upload with tus, resume after a
// dropped network, then record the version with the owner's signature.
import { formatBytes, t } from "../i18n.js";
import { cleanPhoto } from "../photo_clean.js";
import { page, requireSession } from "../shell.js";
import { busy, clearError, messageFor, PlainError, showError } from "../ui.js";
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
  let file = null;
  let running = null;

  const pick = (input, other) => () => {
    file = input.files?.[0] ?? null;
    if (file) other.value = "";
    chosen.textContent = file ? t("upload.chosen", { name: file.name, size: formatBytes(file.size) }) : "";
    const title = form.querySelector("#title");
    if (file && !title.value && !replace) title.value = file.name.replace(/\.[^.]+$/, "");
  };
  const type = form.querySelector("#type");
  const typeError = form.querySelector("[data-type-error]");
  const showTypeError = (message) => {
    typeError.textContent = message;
    typeError.hidden = !message;
    if (message) type.setAttribute("aria-invalid", "true");
    else type.removeAttribute("aria-invalid");
  };
  type.addEventListener("change", () => showTypeError(""));
  camera.addEventListener("change", pick(camera, picker));
  picker.addEventListener("change", pick(picker, camera));
  cancel.addEventListener("click", () => running?.abort());

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(form);
    // A file picked before this script was ready still counts.
    file ??= camera.files?.[0] ?? picker.files?.[0] ?? null;
    if (!file) {
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
        // Place, phone and time leave the photo here, unless kept on purpose for this upload.
        const cleaned = await cleanPhoto(file, { keep: form.querySelector("#keep-details")?.checked });
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
  return () => running?.abort();
});
