// Script messages: web/static/i18n/<lang>.json, keyed by dotted ids ("errors.network").
// The page language is <html lang>, which the server chose (cookie, then Accept-Language).
//
// A message that counts something is an object keyed by the language's plural categories
// (Intl.PluralRules: Arabic has zero, one, two, few, many and other; English one and other):
//   "share.items": { "one": "{n} document", "other": "{n} documents" }
// t("share.items", { n: 3 }) picks the form for n; "count" names another variable to count:
//   "share.uses_left": { "count": "left", "one": "...", "other": "..." }
// "other" is required; a missing category falls back to "other".
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

/**
 * The locale for numbers and dates: the page language, with Latin digits (0-9) everywhere so
 * that numbers, PINs and codes look the same as on paper, on a keyboard and in the CLI.
 */
export function locale() {
  return `${language()}-u-nu-latn`;
}

/** Loads the catalogue of the page's language (and English as the fallback). */
export async function loadMessages() {
  [active, fallback] = await Promise.all([load(language()), load("en")]);
}

// A form may itself count another variable (a sentence with two numbers):
//   { "one": { "count": "uses", "other": "..." }, "other": { "count": "uses", "other": "..." } }
function pluralForm(entry, vars, lang) {
  const count = Number(vars[entry.count || "n"]);
  const category = Number.isFinite(count) ? new Intl.PluralRules(lang).select(count) : "other";
  // A language may say "none" for 0 even where CLDR has no "zero" category.
  const form = count === 0 && entry.zero !== undefined ? entry.zero : (entry[category] ?? entry.other);
  return form && typeof form === "object" ? pluralForm(form, vars, lang) : form;
}

function pick(key, vars) {
  for (const [catalogue, lang] of [
    [active, language()],
    [fallback, "en"],
  ]) {
    const entry = catalogue[key];
    if (typeof entry === "string") return entry;
    if (entry && typeof entry === "object") {
      const text = pluralForm(entry, vars, lang);
      if (typeof text === "string") return text;
    }
  }
  return key;
}

/** t("upload.sending", { percent: 30, done: "3 MB", total: "10 MB" }) */
export function t(key, vars = {}) {
  return pick(key, vars).replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

export function formatDate(value) {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  return new Intl.DateTimeFormat(locale(), { dateStyle: "long" }).format(date);
}

/** 3 ko, 1,2 Mo in French; 3 kB, 1.2 MB in English: the units as the language writes them. */
export function formatBytes(bytes) {
  const units = ["byte", "kilobyte", "megabyte", "gigabyte"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return new Intl.NumberFormat(locale(), {
    style: "unit",
    unit: units[unit],
    unitDisplay: "short",
    maximumFractionDigits: digits,
  }).format(value);
}
