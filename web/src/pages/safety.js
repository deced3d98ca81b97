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
import { formatDate, t } from "../i18n.js";
import { fetchEntries, verifyChain } from "../journal.js";
import { revokeGrant } from "../grants.js";
import { revokeLink } from "../links.js";
import { revokeMandate } from "../proxy.js";
import { MIN_STRENGTH, strength } from "../passphrase.js";
import { getSession } from "../session.js";
import { page, requireSession } from "../shell.js";
import { busy, clearError, el, messageFor, showError, showRecoveryKey } from "../ui.js";
import { coveredChange, HEADER, markRevoked, ownHead } from "../vaulthead.js";

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

// Every way in that exists now, each with its one-tap end (like `wallet safety review`). An
// access the owner's signed head lists as taken back is not a way in, whatever the server says.
async function waysIn() {
  const head = await ownHead();
  const [sessions, links, grants, mandates] = await Promise.all(
    ["/auth/sessions", "/links", "/grants", "/mandates"].map((path) => getJson(path)),
  );
  const active = (kind, rows) => markRevoked(head, kind, rows).rows.filter((row) => row.state === "active");
  const ways = [];
  for (const s of sessions.filter((row) => !row.current)) {
    const text = t("safety.way.session", {
      device: t(`safety.device.${s.device || "unknown"}`),
      since: formatDate(s.created_at),
      used: formatDate(s.last_seen_at),
    });
    ways.push({ kind: "session", id: s.id, text, end: () => request("DELETE", `/auth/sessions/${s.id}`) });
  }
  for (const link of active("links", links)) {
    const text = t("safety.way.link", { left: link.uses_left, total: link.uses_total, since: formatDate(link.created_at) });
    ways.push({ kind: "link", id: link.id, text, end: () => revokeLink(link.id) });
  }
  for (const grant of active("grants", grants)) {
    const who = grant.organisation ? grant.organisation.handle : grant.grantee.handle;
    const key = grant.organisation ? "safety.way.org_grant" : "safety.way.grant";
    const text = t(key, { who, n: grant.documents, since: formatDate(grant.created_at) });
    ways.push({ kind: grant.organisation ? "org_grant" : "grant", id: grant.id, text, end: () => revokeGrant(grant.id) });
  }
  for (const mandate of active("mandates", mandates)) {
    const text = t("safety.way.mandate", { who: mandate.proxy?.handle ?? "?", since: formatDate(mandate.created_at) });
    ways.push({ kind: "mandate", id: mandate.id, text, end: () => revokeMandate(mandate.id) });
  }
  return ways;
}

const FAILED = new Set(["login_failed", "recovery_failed", "oidc_login_failed"]);

// Failed logins and recovery tries since the login before this one (the page keeps nothing on
// the device between visits), from the journal whose chain this page checks.
async function showFailed(box) {
  const entries = await fetchEntries();
  const { intact } = await verifyChain(entries);
  const starts = entries.filter((e) => e.event === "session_started").map((e) => e.seq);
  const since = starts.length >= 2 ? starts[starts.length - 2] : 0;
  const failed = entries.filter((e) => e.seq > since && FAILED.has(e.event)).length;
  const line = box.querySelector("[data-failed]");
  line.textContent = failed ? t("safety.failed", { n: failed }) : t("safety.no_failed");
  if (!intact) line.textContent += ` ${t("safety.journal_broken")}`;
}

async function showWays(box) {
  const list = box.querySelector("[data-ways]");
  const ways = await waysIn();
  list.replaceChildren(
    ...ways.map((way) => {
      const item = el("li", { "data-way": way.kind, "data-id": way.id }, el("span", {}, way.text), " ");
      const button = el("button", { type: "button", class: "danger small" }, t("safety.end"));
      button.addEventListener("click", async () => {
        button.disabled = true;
        try {
          await way.end();
          item.remove();
          box.querySelector("[data-none]").hidden = list.children.length > 0;
        } catch (error) {
          button.disabled = false;
          showError(box, messageFor(error));
        }
      });
      item.append(button);
      return item;
    }),
  );
  box.querySelector("[data-none]").hidden = ways.length > 0;
}

page("safety", async (main, ctx) => {
  if (!requireSession(ctx)) return undefined;
  const review = main.querySelector("[data-review]");
  try {
    await showWays(review);
    await showFailed(review);
  } catch (error) {
    showError(review, messageFor(error));
  }
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
        showRecoveryKey(result.querySelector("[data-recovery-key]"), sheet);
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
        showRecoveryKey(box.querySelector("[data-new-sheet-key]"), sheet);
      } catch (error) {
        showError(sheetForm, messageFor(error, { 401: "account.wrong_passphrase" }));
      }
    });
  });
  return () => {
    sheet = "";
  };
});
