// Small DOM helpers shared by the pages. No innerHTML with data: text goes in as text.
import { ApiError, NetworkError } from "./api.js";
import { formatBytes, t } from "./i18n.js";

/** el("li", { class: "doc", dataset: { id } }, child, "text", ...) */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function icon(name, label = "") {
  return el("img", {
    src: `/static/img/${name}.svg`,
    alt: label,
    class: "icon",
    width: 32,
    height: 32,
    "aria-hidden": label ? null : "true",
  });
}

/** The plain-language message for an error, in the page's language. Every one says what next. */
export function messageFor(error, overrides = {}) {
  if (error instanceof NetworkError) return t("errors.network");
  if (error instanceof ApiError) {
    if (overrides[error.status]) return t(overrides[error.status]);
    if (error.status === 401) return t("errors.session_ended");
    if (error.status === 404) return t("errors.not_found");
    if (error.code === "quota_full" && error.quota) {
      return t("errors.quota_full", { used: formatBytes(error.quota.used), limit: formatBytes(error.quota.limit) });
    }
    if (error.status === 413) return t("errors.too_large");
    if (error.status === 429) {
      return t("errors.too_many", { seconds: error.retryAfter ?? 60 });
    }
    if (error.status === 503) return t("errors.unavailable");
    if (error.code === "last_admin") return t("errors.last_admin");
    if (error.status === 409) return t("errors.conflict");
  }
  if (error?.i18n) return t(error.i18n, error.vars);
  return t("errors.generic");
}

/** Shows a message in the form's [data-error] box (role=alert) and focuses nothing else. */
export function showError(container, message) {
  const box = container.querySelector("[data-error]");
  if (!box) return;
  box.textContent = message;
  box.hidden = !message;
}

export function clearError(container) {
  showError(container, "");
}

/** Disables a form's controls while `work` runs; says it is busy to screen readers. */
export async function busy(form, work) {
  const controls = [...form.querySelectorAll("button, input, select, textarea")];
  const before = controls.map((c) => c.disabled);
  form.setAttribute("aria-busy", "true");
  controls.forEach((c) => {
    c.disabled = true;
  });
  try {
    return await work();
  } finally {
    form.removeAttribute("aria-busy");
    controls.forEach((c, i) => {
      c.disabled = before[i];
    });
  }
}

/** Polite announcement for screen readers (the #announcer live region in base.html). */
export function announce(message) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  setTimeout(() => {
    region.textContent = message;
  }, 50);
}

/** An error the pages raise themselves, already keyed for translation. */
export class PlainError extends Error {
  constructor(i18n, vars = {}) {
    super(i18n);
    this.i18n = i18n;
    this.vars = vars;
  }
}

/**
 * Shows a recovery key ("WR1-ABCD-EFGH-...") as whole groups that wrap only between groups, in
 * fixed columns, so it can be copied by hand. The text stays the key itself (copy and paste,
 * screen readers): each group keeps its dash.
 */
export function showRecoveryKey(node, text) {
  const groups = text.split("-");
  node.replaceChildren(
    ...groups.map((group, index) =>
      el("span", { class: "group" }, index < groups.length - 1 ? `${group}-` : group),
    ),
  );
}
