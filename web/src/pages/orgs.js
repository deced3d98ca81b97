// The organisations this person works in, and a new one (like `wallet org ls` and
// `wallet org create`): the team key is made here and sealed to the creator.
import { t } from "../i18n.js";
import { page, requireSession } from "../shell.js";
import { createOrg, myOrgs } from "../teams.js";
import { busy, el, messageFor, showError } from "../ui.js";

page("orgs", async (main, ctx) => {
  if (!requireSession(ctx)) return undefined;
  const status = main.querySelector("[data-status]");
  const form = main.querySelector("[data-create]");

  function row(org) {
    return el(
      "li",
      { dataset: { org: org.handle } },
      el(
        "div",
        {},
        el("a", { class: "title", href: `/orgs/${encodeURIComponent(org.handle)}`, text: org.display_name }),
        el("span", { class: "details", text: t("org.row", { role: t(`org.role_${org.role}`), n: org.members }) }),
      ),
    );
  }

  try {
    const orgs = await myOrgs();
    if (ctx.signal.aborted) return undefined;
    main.querySelector("[data-orgs]").replaceChildren(...orgs.map(row));
    main.querySelector("[data-none]").hidden = orgs.length > 0;
    status.textContent = "";
  } catch (error) {
    status.textContent = "";
    showError(main, messageFor(error));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(form, "");
    const name = form.elements.name.value;
    try {
      const created = await busy(form, () => createOrg(name));
      await ctx.navigate(`/orgs/${encodeURIComponent(created.handle)}?created=1`);
    } catch (error) {
      showError(form, messageFor(error));
      form.elements.name.focus();
    }
  });
  return undefined;
});
