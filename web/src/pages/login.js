// Login with the wallet name and passphrase, or recovery with the printed recovery key.
import { getJson } from "../api.js";
import { RecoveryKeyError } from "../crypto/recovery.js";
import { WeakKdf } from "../crypto/kdf.js";
import { t } from "../i18n.js";
import { KdfRefused } from "../kdfpins.js";
import { isKiosk } from "../kiosk.js";
import { MIN_STRENGTH, strength, wireShowToggle } from "../passphrase.js";
import { page } from "../shell.js";
import { announce, busy, clearError, messageFor, showError } from "../ui.js";
import { login, recover } from "../vault.js";

// Two scans: "Scan my wallet card" fills in the wallet name only (a recovery sheet's code shown
// by mistake gives its name and nothing else), and, on the person's own device only, "Scan the
// code on my recovery sheet" fills in the recovery form. A public computer never offers the
// second one: a recovery key must not be shown to a kiosk's camera.
async function startScan(main, ctx, { recovery = false } = {}) {
  const box = main.querySelector("[data-scanner]");
  const status = main.querySelector("[data-scan-status]");
  const video = box.querySelector("video");
  const { scanWalletQr } = await import("../scan.js");
  box.hidden = false;
  box.scrollIntoView({ block: "nearest" });
  status.textContent = t("scan.reading");
  const scanner = scanWalletQr(video, { signal: ctx.signal });
  box.querySelector("[data-scan-stop]").onclick = () => scanner.stop();
  try {
    const found = await scanner.result;
    if (recovery && found.recoveryKey && !isKiosk()) {
      main.querySelector("#recover-handle").value = found.handle;
      main.querySelector("#recovery-key").value = found.recoveryKey;
      status.textContent = t("scan.found_recovery");
      main.querySelector("#new-passphrase").focus();
    } else if (recovery) {
      main.querySelector("#recover-handle").value = found.handle;
      status.textContent = t("scan.found_handle", { handle: found.handle });
      main.querySelector("#recovery-key").focus();
    } else {
      main.querySelector("#handle").value = found.handle;
      status.textContent = t("scan.found_handle", { handle: found.handle });
      main.querySelector("#passphrase").focus();
    }
  } catch (error) {
    status.textContent = error?.name === "AbortError" ? "" : t("scan.no_camera");
  } finally {
    box.hidden = true;
  }
}

/** Only a path on this site. */
function safeNext(value) {
  return value && value.startsWith("/") && !value.startsWith("//") ? value : "/documents";
}

function explain(error) {
  if (error instanceof WeakKdf) return t("errors.weak_kdf");
  if (error instanceof RecoveryKeyError) return t(`recovery.${error.code}`);
  return messageFor(error);
}

page("login", (main, ctx) => {
  const form = main.querySelector("form[data-login]");
  main.querySelector("[data-scan]").addEventListener("click", () => startScan(main, ctx));
  if (isKiosk()) {
    main.querySelector("[data-scan-recovery-box]").hidden = true;
    main.querySelector("[data-kiosk-recovery-note]").hidden = false;
  } else {
    main
      .querySelector("[data-scan-recovery]")
      .addEventListener("click", () => startScan(main, ctx, { recovery: true }));
  }
  const next = safeNext(ctx.params.get("next"));
  if (ctx.params.get("next")) main.querySelector("[data-locked-notice]").hidden = false;
  // Workers whose organisation signs them in (the passphrase still opens the wallet).
  getJson("/auth/oidc")
    .then((status) => {
      if (status.enabled && !ctx.signal.aborted) main.querySelector("[data-oidc-start]").hidden = false;
    })
    .catch(() => {});
  wireShowToggle(form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(form);
    const handle = form.querySelector("#handle").value.trim().toLowerCase();
    const pass = form.querySelector("#passphrase");
    if (!handle || !pass.value) {
      showError(form, t("login.fill_both"));
      (handle ? pass : form.querySelector("#handle")).focus();
      return;
    }
    const status = form.querySelector("[data-status]");
    const changedBox = form.querySelector("[data-passphrase-changed-box]");
    const changed = form.querySelector("#passphrase-changed");
    await busy(form, async () => {
      status.textContent = t("login.working");
      try {
        await login(handle, pass.value, { newSaltOk: !changedBox.hidden && changed.checked });
        pass.value = "";
        await ctx.navigate(next, { replace: true });
      } catch (error) {
        status.textContent = "";
        showError(form, error?.status === 401 ? t("login.wrong") : explain(error));
        // Another salt than before: the person may have changed the passphrase elsewhere.
        if (error instanceof KdfRefused && error.reason === "changed") changedBox.hidden = false;
        pass.focus();
      }
    });
  });

  const recoverForm = main.querySelector("form[data-recover]");
  recoverForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(recoverForm);
    const handle = recoverForm.querySelector("#recover-handle").value.trim().toLowerCase();
    const key = recoverForm.querySelector("#recovery-key").value;
    const pass = recoverForm.querySelector("#new-passphrase");
    const again = recoverForm.querySelector("#new-passphrase-again");
    if (!handle || !key.trim()) {
      showError(recoverForm, t("recovery.fill"));
      return;
    }
    if (strength(pass.value) < MIN_STRENGTH) {
      showError(recoverForm, t("register.weak_passphrase"));
      pass.focus();
      return;
    }
    if (pass.value !== again.value) {
      showError(recoverForm, t("register.mismatch"));
      again.focus();
      return;
    }
    const status = recoverForm.querySelector("[data-status]");
    await busy(recoverForm, async () => {
      status.textContent = t("login.working");
      try {
        await recover(handle, key, pass.value);
        pass.value = "";
        again.value = "";
        recoverForm.querySelector("#recovery-key").value = "";
        // Say it plainly before going on: the passphrase is changed.
        status.textContent = "";
        recoverForm.hidden = true;
        const done = main.querySelector("[data-recovered]");
        done.hidden = false;
        done.querySelector("[data-recovered-title]").focus();
        announce(t("recovery.changed"));
      } catch (error) {
        status.textContent = "";
        showError(recoverForm, error?.status === 401 ? t("recovery.wrong") : explain(error));
      }
    });
  });
});
