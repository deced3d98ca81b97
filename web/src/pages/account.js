// My account: the person's own safety code, a new passphrase (the keys are locked again in this
// browser, other sessions end), and deleting the wallet behind a plain confirmation.
import { changePassphrase, deleteAccount } from "../account.js";
import { WeakKdf } from "../crypto/kdf.js";
import { ownSafetyCode } from "../grants.js";
import { formatDate, t } from "../i18n.js";
import { MIN_STRENGTH, strength, wireShowToggle } from "../passphrase.js";
import { isKiosk } from "../kiosk.js";
import { currentLook, setLook } from "../look.js";
import { clearSession, takePendingRecovery } from "../session.js";
import { page, requireSession } from "../shell.js";
import { announce, busy, clearError, el, messageFor, showError } from "../ui.js";
import { getJson, postJson, request } from "../api.js";

const LEVELS = ["strength.0", "strength.1", "strength.2", "strength.3", "strength.4"];

const explain = (error) =>
  error instanceof WeakKdf ? t("errors.weak_kdf") : messageFor(error, { 401: "account.wrong_passphrase" });

page("account", async (main, ctx) => {
  if (!requireSession(ctx)) return undefined;
  main.querySelector("[data-own-code]").textContent = await ownSafetyCode();
  main.querySelector("[data-sheet-link]").hidden = !takePendingRecovery();

  // The tab's look is this device's; a public computer forgets it anyway, so it is not offered.
  const lookBox = main.querySelector("[data-look-box]");
  if (isKiosk()) lookBox.hidden = true;
  const lookForm = lookBox.querySelector("form[data-look]");
  const lookSelect = lookForm.querySelector("#look");
  lookSelect.value = currentLook();
  lookForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    await setLook(lookSelect.value);
    lookForm.querySelector("[data-look-status]").textContent = t(lookSelect.value ? "look.set" : "look.unset");
  });

  wireOidcLink(main.querySelector("[data-oidc-box]"), ctx).catch(() => undefined);

  const form = main.querySelector("form[data-passphrase]");
  const current = form.querySelector("#current-passphrase");
  const next = form.querySelector("#new-passphrase");
  const again = form.querySelector("#new-passphrase-again");
  const meter = form.querySelector("#account-strength");
  const meterText = form.querySelector("[data-strength-text]");
  const status = form.querySelector("[data-status]");
  wireShowToggle(form);
  next.addEventListener("input", () => {
    const level = next.value ? strength(next.value) : 0;
    meter.value = level;
    meterText.textContent = next.value ? t(LEVELS[level]) : "";
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(form);
    status.textContent = "";
    if (!current.value) {
      showError(form, t("account.current_needed"));
      current.focus();
      return;
    }
    if (strength(next.value) < MIN_STRENGTH) {
      showError(form, t("register.weak_passphrase"));
      next.focus();
      return;
    }
    if (next.value !== again.value) {
      showError(form, t("register.mismatch"));
      again.focus();
      return;
    }
    await busy(form, async () => {
      status.textContent = t("account.changing");
      try {
        await changePassphrase(current.value, next.value);
        for (const input of [current, next, again]) input.value = "";
        meter.value = 0;
        meterText.textContent = "";
        status.textContent = t("account.changed");
        announce(t("account.changed"));
      } catch (error) {
        status.textContent = "";
        showError(form, explain(error));
        if (error?.i18n === "account.wrong_passphrase") current.focus();
      }
    });
  });

  const removal = main.querySelector("form[data-delete]");
  const understood = removal.querySelector("#delete-understood");
  const passphrase = removal.querySelector("#delete-passphrase");
  const removalStatus = removal.querySelector("[data-status]");
  removal.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(removal);
    if (!understood.checked) {
      showError(removal, t("account.tick_first"));
      understood.focus();
      return;
    }
    if (!passphrase.value) {
      showError(removal, t("account.current_needed"));
      passphrase.focus();
      return;
    }
    await busy(removal, async () => {
      removalStatus.textContent = t("account.deleting");
      try {
        await deleteAccount(passphrase.value);
        passphrase.value = "";
        clearSession();
        await request("POST", "/web/logout").catch(() => undefined);
        main.replaceChildren(
          el("h1", { text: t("account.deleted_title"), tabindex: "-1", dataset: { deleted: "" } }),
          el("p", { text: t("account.deleted") }),
          el("p", {}, el("a", { href: "/" }, t("account.to_start"))),
        );
        main.querySelector("h1").focus();
        announce(t("account.deleted"));
      } catch (error) {
        removalStatus.textContent = "";
        showError(removal, explain(error));
        passphrase.focus();
      }
    });
  });
  return () => {
    for (const input of main.querySelectorAll("input[type=password], input[data-was-password]")) input.value = "";
  };
});

// The organisation's sign-in (`wallet oidc link|status|unlink`): shown only when the server has
// one, and not on a public computer, where a work account must not be bound to a wallet.
async function wireOidcLink(box, ctx) {
  const server = await getJson("/auth/oidc");
  if (!server.enabled || isKiosk() || ctx.signal.aborted) return;
  const state = box.querySelector("[data-oidc-state]");
  const linkButton = box.querySelector("[data-oidc-link]");
  const unlinkButton = box.querySelector("[data-oidc-unlink]");
  const show = async () => {
    const linked = await getJson("/auth/oidc/link");
    const parts = linked.linked
      ? [t("oidc.linked", { issuer: linked.issuer, date: formatDate(linked.linked_at) })]
      : [t("oidc.not_linked")];
    if (linked.linked && linked.last_login_at) parts.push(t("oidc.last_used", { date: formatDate(linked.last_login_at) }));
    state.textContent = parts.join(" ");
    linkButton.hidden = linked.linked;
    unlinkButton.hidden = !linked.linked;
  };
  await show();
  box.hidden = false;
  linkButton.addEventListener("click", async () => {
    clearError(box);
    try {
      const started = await postJson("/auth/oidc/link/start", {});
      window.location.assign(started.authorization_url);
    } catch (error) {
      showError(box, messageFor(error));
    }
  });
  unlinkButton.addEventListener("click", async () => {
    clearError(box);
    try {
      await request("DELETE", "/auth/oidc/link");
      await show();
      announce(t("oidc.unlinked"));
      state.textContent = t("oidc.unlinked");
    } catch (error) {
      showError(box, messageFor(error));
    }
  });
}
