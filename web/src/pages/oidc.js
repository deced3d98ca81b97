// The organisation's sign-in sent the browser back with a one-time code: the worker types the
// wallet passphrase here and the wallet opens in this tab (vault.loginWithOidcCode), as
// `wallet oidc login --code` does. The sign-in service alone opens nothing.
import { t } from "../i18n.js";
import { page } from "../shell.js";
import { busy, messageFor, showError } from "../ui.js";
import { loginWithOidcCode } from "../vault.js";

page("oidc", async (main, ctx) => {
  const form = main.querySelector("[data-oidc-open]");
  if (!form) return undefined;
  const code = main.dataset.code;
  // The code works once: keep it (and the state) out of the address bar and the history.
  const query = new URLSearchParams(location.search);
  for (const name of ["code", "state", "session_state"]) query.delete(name);
  history.replaceState(null, "", `${location.pathname}${query.size ? `?${query}` : ""}`);
  const status = form.querySelector("[data-status]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(form, "");
    const passphrase = form.elements.passphrase.value;
    if (!passphrase) {
      showError(form, t("oidc.passphrase_needed"));
      form.elements.passphrase.focus();
      return;
    }
    try {
      status.textContent = t("login.working");
      await busy(form, () => loginWithOidcCode(code, passphrase));
      form.elements.passphrase.value = "";
      await ctx.navigate("/inbox");
    } catch (error) {
      status.textContent = "";
      // A wrong passphrase uses the code up: the worker signs in again.
      showError(form, messageFor(error, { 401: "oidc.wrong_passphrase", 404: "oidc.code_used", 410: "oidc.code_used" }));
    }
  });
  return undefined;
});
