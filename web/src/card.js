// The wallet card and the recovery sheet as a file.
// - The wallet card holds the wallet name only (as text and as a QR code "WALLET1:<name>"):
//   nothing secret, so it can be shown to a kiosk's camera to fill in the name at login.
// - The recovery sheet can be saved as a PNG image drawn here, in the browser, for people who
//   have a phone and no printer. The image is made from memory and handed to the browser's
//   download; nothing is sent or kept by the page.
import qrcode from "qrcode-generator";
import { t } from "./i18n.js";
import { el } from "./ui.js";

const SVG = "http://www.w3.org/2000/svg";

/** What the wallet card's QR code holds (see web/README.md and web/src/scan.js). */
export const walletCardQrText = (handle) => `WALLET1:${handle}`;

function matrix(text) {
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  const count = qr.getModuleCount();
  return { count, isDark: (row, col) => qr.isDark(row, col) };
}

/** A QR code as an SVG built with DOM nodes (no inline style, so the CSP holds). */
export function qrSvg(text, label, className = "qr") {
  const { count, isDark } = matrix(text);
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `-4 -4 ${count + 8} ${count + 8}`);
  svg.setAttribute("class", className);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  const back = document.createElementNS(SVG, "rect");
  for (const [name, value] of [["x", -4], ["y", -4], ["width", count + 8], ["height", count + 8]]) {
    back.setAttribute(name, String(value));
  }
  back.setAttribute("class", "light");
  back.setAttribute("fill", "#fff");
  svg.append(back);
  let d = "";
  for (let row = 0; row < count; row++) {
    for (let col = 0; col < count; col++) {
      if (isDark(row, col)) d += `M${col},${row}h1v1h-1z`;
    }
  }
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", d);
  path.setAttribute("fill", "#000");
  svg.append(path);
  return svg;
}

/** The wallet card's words, in the page's language. */
export const cardTexts = () => ({
  title: t("card.title"),
  qrLabel: t("card.qr_label"),
  use: t("card.use"),
  noSecret: t("card.no_secret"),
});

/** The printable wallet card: the name as text and as a QR code, and what the card is for. */
export function walletCard(handle, texts = cardTexts()) {
  return el(
    "section",
    { class: "wallet-card", dataset: { walletCard: "" }, "aria-label": texts.title },
    el("p", { class: "wallet-card-title", text: texts.title }),
    el("p", { class: "wallet-card-handle", dir: "ltr", text: handle, dataset: { cardHandle: "" } }),
    qrSvg(walletCardQrText(handle), texts.qrLabel, "wallet-card-qr"),
    el("p", { class: "wallet-card-use", text: texts.use }),
    el("p", { class: "wallet-card-note", text: texts.noSecret }),
  );
}

/** Splits `text` into lines no wider than `width` on the canvas (words kept whole). */
function wrap(context, text, width) {
  const lines = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    const tried = line ? `${line} ${word}` : word;
    if (line && context.measureText(tried).width > width) {
      lines.push(line);
      line = word;
    } else {
      line = tried;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * The recovery sheet as a PNG Blob (A4 at 150 dpi): title, wallet name, the key in groups of
 * whole lines, its QR code, the steps and the warning. `sheet` = { handle, key, qrText,
 * title, handleLabel, keyLabel, stepsTitle, steps: [..], warning, dir }.
 */
export async function recoverySheetPng(sheet) {
  const width = 1240;
  const height = 1754;
  const margin = 110;
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff";
  context.fillRect(0, 0, width, height);
  context.fillStyle = "#000";
  context.direction = sheet.dir === "rtl" ? "rtl" : "ltr";
  context.textAlign = "start";
  context.textBaseline = "top";
  const x = sheet.dir === "rtl" ? width - margin : margin;
  const usable = width - 2 * margin;
  const font = (size, weight = 400, family = "sans-serif") => {
    context.font = `${weight} ${size}px ${family}`;
  };
  let y = margin;
  const write = (text, size, { weight = 400, family = "sans-serif", gap = 0.45, ltr = false } = {}) => {
    font(size, weight, family);
    const before = context.direction;
    if (ltr) context.direction = "ltr";
    const at = ltr ? margin : x;
    if (ltr) context.textAlign = "left";
    for (const line of wrap(context, text, usable)) {
      context.fillText(line, at, y);
      y += size * 1.3;
    }
    context.direction = before;
    context.textAlign = "start";
    y += size * gap;
  };
  write(sheet.title, 54, { weight: 700, gap: 0.8 });
  write(sheet.handleLabel, 32, { weight: 700, gap: 0.1 });
  write(sheet.handle, 48, { family: "monospace", ltr: true, gap: 0.6 });
  write(sheet.keyLabel, 32, { weight: 700, gap: 0.2 });
  // The key: whole groups per line, never split inside a group.
  const groups = sheet.key.split("-");
  for (let i = 0; i < groups.length; i += 5) {
    const line = groups.slice(i, i + 5).join("-") + (i + 5 < groups.length ? "-" : "");
    write(line, 44, { family: "monospace", weight: 700, ltr: true, gap: 0 });
  }
  y += 30;
  const { count, isDark } = matrix(sheet.qrText);
  const cell = Math.floor(440 / (count + 8));
  const side = cell * (count + 8);
  const left = Math.round((width - side) / 2);
  for (let row = 0; row < count; row++) {
    for (let col = 0; col < count; col++) {
      if (isDark(row, col)) context.fillRect(left + (col + 4) * cell, y + (row + 4) * cell, cell, cell);
    }
  }
  y += side + 30;
  write(sheet.stepsTitle, 36, { weight: 700, gap: 0.2 });
  sheet.steps.forEach((step, index) => write(`${index + 1}. ${step}`, 30, { gap: 0.2 }));
  y += 20;
  write(sheet.warning, 32, { weight: 700 });
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("no image"))), "image/png");
  });
}

/** Hands a Blob to the browser's download, under `name`. */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
