// The owner's full backup (like `wallet export`): one zip of age files, built in this tab.
import { exportFileName, exportZip } from "../export.js";
import { t } from "../i18n.js";
import { page, requireSession } from "../shell.js";
import { announce, busy, messageFor, showError } from "../ui.js";

async function save(stream, name) {
  // The zip is made as a stream, one document at a time; Chromium keeps a large Blob on disk.
  // (No showSaveFilePicker: the passphrase check takes longer than the tap's permission lasts.)
  const blob = await new Response(stream).blob();
  const url = URL.createObjectURL(new Blob([blob], { type: "application/zip" }));
  const anchor = document.createElement("a");
  anchor.href = url;
  anchor.download = name;
  anchor.hidden = true;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

page("backup", async (main, ctx) => {
  const session = requireSession(ctx);
  if (!session) return undefined;
  const form = main.querySelector("[data-backup]");
  const progress = main.querySelector("[data-progress]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(form, "");
    const passphrase = form.elements.passphrase.value;
    if (!passphrase) {
      showError(form, t("backup.passphrase_needed"));
      form.elements.passphrase.focus();
      return;
    }
    try {
      await busy(form, async () => {
        progress.textContent = t("backup.checking");
        const made = await exportZip(passphrase, {
          signal: ctx.signal,
          onProgress: ({ done, total }) => {
            progress.textContent = t("backup.progress", { done, total });
          },
        });
        await save(made.stream, exportFileName(session.account.handle));
        const n = await made.count;
        form.elements.passphrase.value = "";
        progress.textContent = "";
        const result = main.querySelector("[data-result]");
        main.querySelector("[data-result-summary]").textContent = t("backup.done", { n });
        result.hidden = false;
        result.querySelector("h2").focus();
        announce(main.querySelector("[data-result-summary]").textContent);
      });
    } catch (error) {
      progress.textContent = "";
      showError(form, messageFor(error));
    }
  });
  return undefined;
});
