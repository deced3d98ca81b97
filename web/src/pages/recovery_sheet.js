// The recovery sheet: shown once, right after registering; printable; never stored.
import qrcode from "qrcode-generator";
import { t } from "../i18n.js";
import { forgetPendingRecovery, takePendingRecovery } from "../session.js";
import { page } from "../shell.js";
import { showError } from "../ui.js";

const SVG = "http://www.w3.org/2000/svg";

/** The QR code as an SVG drawn with DOM nodes (no inline style, so the CSP holds). */
export function qrSvg(text, label) {
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  const count = qr.getModuleCount();
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `-4 -4 ${count + 8} ${count + 8}`);
  svg.setAttribute("class", "qr");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  const back = document.createElementNS(SVG, "rect");
  back.setAttribute("x", "-4");
  back.setAttribute("y", "-4");
  back.setAttribute("width", String(count + 8));
  back.setAttribute("height", String(count + 8));
  back.setAttribute("class", "light");
  svg.append(back);
  let d = "";
  for (let row = 0; row < count; row++) {
    for (let col = 0; col < count; col++) {
      if (qr.isDark(row, col)) d += `M${col},${row}h1v1h-1z`;
    }
  }
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", d);
  path.setAttribute("fill", "#000");
  svg.append(path);
  return svg;
}

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
  main.querySelector("[data-recovery-key]").textContent = pending.text;
  main
    .querySelector("[data-qr]")
    .replaceChildren(qrSvg(recoveryQrText(pending.handle, pending.text), t("sheet.qr_label")));
  main.querySelector("[data-print]").addEventListener("click", () => window.print());
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
