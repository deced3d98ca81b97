// An organisation's public page (like `wallet org show` for someone outside it): its name, the
// team safety code computed here from a team key checked along its signed chain, and the
// handles of its admins, so an owner can check an office before giving it access.
import { page, requireSession } from "../shell.js";
import { verifiedTeam } from "../teams.js";
import { el, messageFor, showError } from "../ui.js";

page("org_public", async (main, ctx) => {
  if (!requireSession(ctx)) return undefined;
  const status = main.querySelector("[data-status]");
  try {
    const team = await verifiedTeam(main.dataset.org);
    if (ctx.signal.aborted) return undefined;
    main.querySelector("[data-org-name]").textContent = team.displayName;
    main.querySelector("[data-org-handle]").textContent = team.handle;
    main.querySelector("[data-safety-code]").textContent = team.safetyCode;
    main.querySelector("[data-admins]").replaceChildren(
      ...team.admins.map((handle) => el("li", { dataset: { admin: handle } }, el("span", { class: "title", text: handle }))),
    );
    main.querySelector("[data-no-admins]").hidden = team.admins.length > 0;
    main.querySelector("[data-give]").href = `/grants/org?org=${encodeURIComponent(team.handle)}`;
    main.querySelector("[data-org-public]").hidden = false;
    status.textContent = "";
  } catch (error) {
    status.textContent = "";
    showError(main, messageFor(error));
  }
  return undefined;
});
