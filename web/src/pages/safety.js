// Emergency reset (issue 19), the browser twin of wallet/client/safety.py: 1. every other
// session, link, grant (person and organisation) and mandate ended in one server transaction,
// under the owner's next signed head listing all of them as revoked; 2. a new passphrase;
// 3. a new recovery key, shown once. A stop half-way says which steps were done; running the
// reset again finishes it.
import { changePassphrase, currentAuthKey } from "../account.js";
import { getJson, request } from "../api.js";
import { b64e } from "../crypto/encoding.js";
import { splitRecoveryKey } from "../crypto/kdf.js";
import { formatRecoveryKey, newRecoveryKey } from "../crypto/recovery.js";
import { t } from "../i18n.js";
import { MIN_STRENGTH, strength } from "../passphrase.js";
import { getSession } from "../session.js";
import { page, requireSession } from "../shell.js";
import { busy, clearError, messageFor, showError } from "../ui.js";
import { coveredChange, HEADER } from "../vaulthead.js";

const STEPS = ["access", "passphrase", "recovery_key"];

async function endEveryAccess() {
  for (let attempt = 0; ; attempt++) {
    const plan = await getJson("/safety/reset");
    const revokeAll = { grants: plan.grants, mandates: plan.mandates, links: plan.links };
    try {
      return await coveredChange({ revokeAll }, async (header) =>
        (await request("POST", "/safety/reset", { headers: { [HEADER]: header } })).json(),
      );
    } catch (error) {
      // Something was given meanwhile: read the plan again.
      if (error?.code !== "vault_head_stale" || attempt >= 3) throw error;
    }
  }
}

async function newRecoverySheet(passphrase) {
  const { keys } = getSession();
  const current = await currentAuthKey(passphrase);
  const recoveryKey = newRecoveryKey();
  const [recoveryAuth, recoveryKek] = await splitRecoveryKey(recoveryKey);
  const body = {
    current_auth_key: b64e(current),
    recovery_auth_key: b64e(recoveryAuth),
    keys_by_recovery: b64e(await keys.lock(recoveryKek)),
  };
  recoveryKek.fill(0);
  await request("PUT", "/accounts/me/recovery-key", { json: body });
  const text = await formatRecoveryKey(recoveryKey);
  recoveryKey.fill(0);
  return text;
}

page("safety", async (main, ctx) => {
  if (!requireSession(ctx)) return undefined;
  const form = main.querySelector("form[data-reset]");
  const status = form.querySelector("[data-status]");
  const result = main.querySelector("[data-result]");
  let sheet = "";
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(form);
    const current = form.querySelector("#reset-current").value;
    const next = form.querySelector("#reset-new").value;
    if (strength(next) < MIN_STRENGTH) {
      showError(form, t("register.weak_passphrase"));
      return;
    }
    if (next !== form.querySelector("#reset-again").value) {
      showError(form, t("register.mismatch"));
      return;
    }
    const done = [];
    await busy(form, async () => {
      try {
        await currentAuthKey(current); // a wrong passphrase stops before anything is done
        status.textContent = t("safety.step.access");
        const ended = await endEveryAccess();
        done.push("access");
        status.textContent = t("safety.step.passphrase");
        await changePassphrase(current, next);
        done.push("passphrase");
        status.textContent = t("safety.step.recovery_key");
        sheet = await newRecoverySheet(next);
        done.push("recovery_key");
        status.textContent = "";
        form.hidden = true;
        result.hidden = false;
        result.querySelector("[data-ended]").textContent = t("safety.ended", ended);
        result.querySelector("[data-recovery-key]").textContent = sheet;
        result.querySelector("h2").focus();
      } catch (error) {
        status.textContent = "";
        if (!done.length) {
          showError(form, messageFor(error, { 401: "account.wrong_passphrase" }));
          return;
        }
        const did = done.map((step) => t(`safety.done.${step}`)).join(" ");
        const todo = STEPS.filter((step) => !done.includes(step))
          .map((step) => t(`safety.todo.${step}`))
          .join(" ");
        showError(form, `${t("safety.stopped")} ${did} ${todo} ${t("safety.again")}`);
      }
    });
  });
  const sheetForm = main.querySelector("form[data-new-sheet]");
  sheetForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(sheetForm);
    await busy(sheetForm, async () => {
      try {
        sheet = await newRecoverySheet(sheetForm.querySelector("#sheet-passphrase").value);
        sheetForm.hidden = true;
        const box = main.querySelector("[data-sheet-result]");
        box.hidden = false;
        box.querySelector("[data-new-sheet-key]").textContent = sheet;
      } catch (error) {
        showError(sheetForm, messageFor(error, { 401: "account.wrong_passphrase" }));
      }
    });
  });
  return () => {
    sheet = "";
  };
});
