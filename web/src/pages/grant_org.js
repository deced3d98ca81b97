// An owner gives an organisation's team standing access (like `wallet grant create --to-org`):
// the team's current key is checked to follow, by signed statements, from the first one seen;
// its safety code is shown and confirmed; the keys are sealed to the team key here.
import { createOrgGrant } from "../grants.js";
import { t } from "../i18n.js";
import { expiryFrom } from "../links.js";
import { page, requireSession } from "../shell.js";
import { verifiedTeam } from "../teams.js";
import { announce, busy, el, messageFor, showError } from "../ui.js";
import { listDocuments } from "../vault.js";

page("grant_org", async (main, ctx) => {
  if (!requireSession(ctx)) return undefined;
  const form = main.querySelector("[data-org-grant]");
  const codeOk = form.querySelector("#og-code-ok");
  const safety = main.querySelector("[data-safety]");
  const docsStatus = main.querySelector("[data-docs-status]");
  const preselected = new Set((ctx.params.get("documents") || "").split(",").filter(Boolean));
  const named = ctx.params.get("org");
  if (named) form.elements.org.value = named;
  let team = null;

  const lookup = async () => {
    showError(form, "");
    team = null;
    codeOk.checked = false;
    safety.hidden = true;
    const org = form.elements.org.value.trim().toLowerCase();
    if (!org) {
      showError(form, t("org_grant.org_needed"));
      form.elements.org.focus();
      return false;
    }
    try {
      team = await verifiedTeam(org);
    } catch (error) {
      showError(form, messageFor(error));
      return false;
    }
    main.querySelector("[data-team-name]").textContent = t("org_grant.team", { name: team.displayName, handle: team.handle });
    main.querySelector("[data-safety-code]").textContent = team.safetyCode;
    main.querySelector("[data-org-page]").href = `/o/${encodeURIComponent(team.handle)}`;
    safety.hidden = false;
    announce(t("grant.code_shown", { code: team.safetyCode }));
    return true;
  };
  form.querySelector("[data-lookup]").addEventListener("click", lookup);
  form.elements.org.addEventListener("input", () => {
    team = null;
    safety.hidden = true;
  });

  try {
    const documents = await listDocuments();
    if (ctx.signal.aborted) return undefined;
    docsStatus.textContent = documents.length ? "" : t("share.no_documents");
    main.querySelector("[data-docs]").replaceChildren(
      ...documents.map((doc) =>
        el(
          "label",
          {},
          el("input", { type: "checkbox", name: "documents", value: doc.id, checked: preselected.has(doc.id) }),
          ` ${doc.meta.title || doc.meta.file_name || t("documents.untitled")}`,
          el("span", { class: "details", text: ` · ${t(`types.${doc.meta.type || "other"}`)}` }),
        ),
      ),
    );
  } catch (error) {
    docsStatus.textContent = "";
    showError(form, messageFor(error));
  }

  const checked = (name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(form, "");
    if (!team) {
      if (await lookup()) codeOk.focus();
      return;
    }
    if (!codeOk.checked) {
      showError(form, t("grant.compare_first"));
      codeOk.focus();
      return;
    }
    const scope = { ids: checked("documents"), types: checked("types"), fields: checked("fields") };
    try {
      const given = await busy(form, () =>
        createOrgGrant(team, scope, { purpose: form.elements.purpose.value, expiresAt: expiryFrom(form.elements.expiry.value) }),
      );
      form.hidden = true;
      const result = main.querySelector("[data-result]");
      main.querySelector("[data-result-summary]").textContent = t("org_grant.given", { name: team.displayName, n: given.documents });
      result.hidden = false;
      result.querySelector("h2").focus();
      announce(main.querySelector("[data-result-summary]").textContent);
    } catch (error) {
      showError(form, messageFor(error));
    }
  });
  return undefined;
});
