// The recovery sheet: shown once, right after registering; printable; never stored.
import { cardTexts, qrSvg, recoverySheetPng, saveBlob, walletCard } from "../card.js";
import { t } from "../i18n.js";
import { forgetPendingRecovery, takePendingRecovery } from "../session.js";
import { page } from "../shell.js";
import { showError, showRecoveryKey } from "../ui.js";

export { qrSvg };

/** What the sheet's QR code holds: the wallet name and the recovery key (see web/README.md). */
export const recoveryQrText = (handle, key) => `WALLET1:${handle}:${key}`;

page("recovery_sheet", (main, ctx) => {
  const pending = takePendingRecovery();
  if (!pending) {
    main.querySelector("[data-gone]").hidden = false;
    return undefined;
  }
  main.querySelector("[data-sheet]").hidden = false;
  main.querySelector("[data-sheet-handle]").textContent = pending.handle;
  showRecoveryKey(main.querySelector("[data-recovery-key]"), pending.text);
  main
    .querySelector("[data-qr]")
    .replaceChildren(qrSvg(recoveryQrText(pending.handle, pending.text), t("sheet.qr_label")));
  main.querySelector("[data-card-slot]").replaceChildren(walletCard(pending.handle, cardTexts()));
  main.querySelector("[data-print]").addEventListener("click", () => window.print());
  main.querySelector("[data-save-png]").addEventListener("click", async () => {
    const status = main.querySelector("[data-save-status]");
    const text = (selector) => main.querySelector(selector).textContent.trim();
    const blob = await recoverySheetPng({
      handle: pending.handle,
      key: pending.text,
      qrText: recoveryQrText(pending.handle, pending.text),
      title: text("#sheet-title"),
      handleLabel: main.querySelectorAll(".sheet dt")[0].textContent,
      keyLabel: main.querySelectorAll(".sheet dt")[1].textContent,
      stepsTitle: text(".sheet h3"),
      steps: [...main.querySelectorAll(".sheet ol li")].map((li) => li.textContent.trim()),
      warning: text("[data-sheet-warning]"),
      dir: document.documentElement.dir,
    });
    saveBlob(blob, `recovery-sheet-${pending.handle}.png`);
    status.textContent = t("sheet.saved_png");
  });
  const form = main.querySelector("form[data-sheet-done]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!form.querySelector("#sheet-kept").checked) {
      showError(form, t("sheet.confirm_first"));
      form.querySelector("#sheet-kept").focus();
      return;
    }
    forgetPendingRecovery();
    ctx.navigate("/documents", { replace: true });
  });
  // Leaving the page by any other way forgets the key too.
  return () => {
    forgetPendingRecovery();
    main.querySelector("[data-recovery-key]").textContent = "";
  };
});
