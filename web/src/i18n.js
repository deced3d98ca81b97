// Script messages: web/static/i18n/<lang>.json, keyed by dotted ids ("errors.network").
// The page language is <html lang>, which the server chose (cookie, then Accept-Language).
const catalogues = new Map();

async function load(language) {
  if (!catalogues.has(language)) {
    catalogues.set(
      language,
      fetch(`/static/i18n/${language}.json`, { credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : {}))
        .catch(() => ({})),
    );
  }
  return catalogues.get(language);
}

let active = {};
let fallback = {};

export function language() {
  return document.documentElement.lang || "en";
}

/** Loads the catalogue of the page's language (and English as the fallback). */
export async function loadMessages() {
  [active, fallback] = await Promise.all([load(language()), load("en")]);
}

/** t("upload.sending", { percent: 30, done: "3 MB", total: "10 MB" }) */
export function t(key, vars = {}) {
  const text = active[key] ?? fallback[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

export function formatDate(value) {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  return new Intl.DateTimeFormat(language(), { dateStyle: "long" }).format(date);
}

export function formatBytes(bytes) {
  const units = ["B", "kB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${new Intl.NumberFormat(language(), { maximumFractionDigits: digits }).format(value)} ${units[unit]}`;
}
