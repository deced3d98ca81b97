// People with access (standing grants): each with one-tap end; ended ones folded away.
import { grantsGiven, ownSafetyCode, revokeGrant } from "../grants.js";
import { formatDate, t } from "../i18n.js";
import { page, requireSession } from "../shell.js";
import { announce, el, messageFor, showError } from "../ui.js";

function describe(grant) {
  const d = grant.descriptor;
  const parts = [
    t(`grant.state_${grant.state}`),
    t("share.items", { n: grant.documents }),
    d.expires_at ? t("share.until", { date: formatDate(d.expires_at) }) : t("grant.no_end"),
  ];
  if (d.scope.types.length) parts.push(t("grant.with_kinds", { n: d.scope.types.length }));
  if (d.scope.fields.length) parts.push(t("grant.with_fields", { n: d.scope.fields.length }));
  return parts.join(" · ");
}

page("grants", async (main, ctx) => {
  if (!requireSession(ctx)) return undefined;
  const status = main.querySelector("[data-status]");
  const done = main.querySelector("[data-done]");
  main.querySelector("[data-own-code]").textContent = await ownSafetyCode();

  async function load() {
    const grants = await grantsGiven();
    if (ctx.signal.aborted) return;
    // The server showed a grant the owner ended as running again: shown ended, and said.
    if (grants.refused) showError(main, messageFor(grants.refused));
    const active = grants.filter((g) => g.state === "active");
    main.querySelector("[data-active]").replaceChildren(...active.map(row));
    main.querySelector("[data-old]").replaceChildren(...grants.filter((g) => g.state !== "active").map(row));
    main.querySelector("[data-none]").hidden = active.length > 0;
    status.textContent = "";
  }

  function row(grant) {
    const who = grant.organisation?.display_name || grant.grantee.handle;
    const name = t("grant.row_title", { who, purpose: grant.descriptor.purpose });
    const end =
      grant.state === "active" &&
      el("button", {
        type: "button",
        class: "danger",
        dataset: { revoke: grant.id },
        text: t("grant.stop"),
        "aria-label": t("grant.stop_named", { who }),
        onclick: async (event) => {
          event.currentTarget.disabled = true;
          showError(main, "");
          try {
            await revokeGrant(grant.id);
            done.textContent = t("grant.stopped", { who });
            done.hidden = false;
            announce(done.textContent);
            await load();
          } catch (error) {
            event.currentTarget.disabled = false;
            showError(main, messageFor(error));
          }
        },
      });
    return el(
      "li",
      { dataset: { grantId: grant.id, state: grant.state } },
      el(
        "div",
        {},
        el("span", { class: "title", text: name }),
        el("span", { class: "details", text: describe(grant) }),
        grant.organisation &&
          el("a", { class: "details tap-link", href: `/o/${encodeURIComponent(grant.organisation.handle)}`, text: t("org.public_page") }),
      ),
      end ? el("div", { class: "file-actions" }, end) : null,
    );
  }

  try {
    await load();
  } catch (error) {
    status.textContent = "";
    showError(main, messageFor(error));
  }
  return undefined;
});
