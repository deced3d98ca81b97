// Register: pick or get a made-up wallet name, choose a passphrase, create the keys here.
import { ApiError } from "../api.js";
import { WeakKdf } from "../crypto/kdf.js";
import { t } from "../i18n.js";
import { MIN_STRENGTH, strength, wireShowToggle } from "../passphrase.js";
import { setPendingRecovery } from "../session.js";
import { page } from "../shell.js";
import { busy, clearError, messageFor, showError } from "../ui.js";
import { createAccount, newAccountParams } from "../vault.js";

const HANDLE = /^[a-z0-9][a-z0-9-]*[a-z0-9]$/;
const LEVELS = ["strength.0", "strength.1", "strength.2", "strength.3", "strength.4"];

page("register", async (main, ctx) => {
  const form = main.querySelector("form[data-register]");
  const handle = form.querySelector("#handle");
  const pass = form.querySelector("#passphrase");
  const again = form.querySelector("#passphrase-again");
  const meter = form.querySelector("#strength");
  const meterText = form.querySelector("[data-strength-text]");
  const status = form.querySelector("[data-status]");
  wireShowToggle(form);

  let params = null;
  const suggest = async ({ onlyIfEmpty = false } = {}) => {
    try {
      params = await newAccountParams();
      // Never overwrite a name the person started typing while the suggestion was on its way.
      if (!onlyIfEmpty || !handle.value) handle.value = params.suggested_handle;
    } catch (error) {
      showError(form, messageFor(error));
    }
  };
  form.querySelector("[data-suggest]").addEventListener("click", () => suggest());
  if (!handle.value) await suggest({ onlyIfEmpty: true });

  const rate = () => {
    const level = pass.value ? strength(pass.value) : 0;
    meter.value = level;
    meterText.textContent = pass.value ? t(LEVELS[level]) : "";
  };
  pass.addEventListener("input", rate);

  // Errors about the name show next to the name, not at the foot of the form.
  const handleError = form.querySelector("[data-handle-error]");
  const showHandleError = (message) => {
    handleError.textContent = message;
    handleError.hidden = !message;
    if (message) handle.setAttribute("aria-invalid", "true");
    else handle.removeAttribute("aria-invalid");
  };
  handle.addEventListener("input", () => showHandleError(""));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(form);
    showHandleError("");
    const name = handle.value.trim().toLowerCase();
    if (name.length < 3 || name.length > 40 || !HANDLE.test(name)) {
      showHandleError(t("register.bad_handle_plain"));
      handle.focus();
      return;
    }
    if (strength(pass.value) < MIN_STRENGTH) {
      showError(form, t("register.weak_passphrase"));
      pass.focus();
      return;
    }
    if (pass.value !== again.value) {
      showError(form, t("register.mismatch"));
      again.focus();
      return;
    }
    await busy(form, async () => {
      status.textContent = t("register.working");
      try {
        const recovery = await createAccount(name, pass.value, params);
        setPendingRecovery({ handle: name, text: recovery });
        pass.value = "";
        again.value = "";
        await ctx.navigate("/recovery-sheet", { replace: true });
      } catch (error) {
        status.textContent = "";
        if (error instanceof WeakKdf) showError(form, t("errors.weak_kdf"));
        else if (error instanceof ApiError && error.status === 409) showHandleError(t("register.taken"));
        else if (error instanceof ApiError && error.status === 422) showHandleError(t("register.bad_handle_plain"));
        else showError(form, messageFor(error));
        if (error instanceof ApiError && [409, 422].includes(error.status)) handle.focus();
      }
    });
  });
});
