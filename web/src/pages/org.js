// One organisation (like `wallet org show`, `org member add|remove|role`): members and roles,
// the team safety code; an admin adds a colleague (after comparing their safety code), makes
// them admin or worker, or removes them, which changes the team key in this browser and
// reseals everything the old key opened.
import { lookupPerson } from "../grants.js";
import { t } from "../i18n.js";
import { page, requireSession } from "../shell.js";
import { addMember, changeRole, openTeamKey, orgDetail, removeMember, teamSafetyCode } from "../teams.js";
import { announce, busy, el, messageFor, showError } from "../ui.js";

page("org", async (main, ctx) => {
  const session = requireSession(ctx);
  if (!session) return undefined;
  const org = main.dataset.org;
  const status = main.querySelector("[data-status]");
  const done = main.querySelector("[data-done]");
  const form = main.querySelector("[data-add]");
  const codeOk = form.querySelector("#member-code-ok");
  let person = null;

  function said(message) {
    done.textContent = message;
    done.hidden = false;
    announce(message);
  }

  async function act(button, work) {
    button.disabled = true;
    showError(main, "");
    done.hidden = true;
    try {
      said(await work());
      await load();
    } catch (error) {
      button.disabled = false;
      showError(main, messageFor(error));
    }
  }

  function memberRow(member, detail) {
    const handle = member.keys.handle;
    const me = handle === session.account.handle;
    const admin = detail.role === "admin";
    const other = member.role === "admin" ? "worker" : "admin";
    const buttons = admin
      ? [
          el("button", {
            type: "button",
            dataset: { role: handle },
            text: t(`org.make_${other}`),
            "aria-label": t(`org.make_${other}_named`, { handle }),
            onclick: (event) =>
              act(event.currentTarget, async () => {
                await changeRole(detail.handle, handle, other);
                return t("org.role_changed", { handle, role: t(`org.role_${other}`) });
              }),
          }),
          !me &&
            el("button", {
              type: "button",
              class: "danger",
              dataset: { remove: handle },
              text: t("org.remove"),
              "aria-label": t("org.remove_named", { handle }),
              onclick: (event) => {
                // Two taps: the first one says what will happen, the second one does it.
                const button = event.currentTarget;
                if (!button.dataset.armed) {
                  button.dataset.armed = "1";
                  button.textContent = t("org.remove_confirm", { handle });
                  button.setAttribute("aria-label", button.textContent);
                  announce(button.textContent);
                  return;
                }
                act(button, async () => {
                  const rotation = await removeMember(detail.handle, handle);
                  return t("org.removed", { handle, n: rotation.members, code: rotation.safetyCode });
                });
              },
            }),
        ]
      : [];
    return el(
      "li",
      { dataset: { member: handle, memberRole: member.role } },
      el(
        "div",
        {},
        el("span", { class: "title", text: me ? t("org.you", { handle }) : handle }),
        el("span", { class: "details", text: t(`org.role_${member.role}`) }),
      ),
      buttons.length ? el("div", { class: "file-actions" }, ...buttons) : null,
    );
  }

  async function load() {
    const detail = await orgDetail(org);
    const team = await openTeamKey(detail); // checks the admin's seal and signature
    if (ctx.signal.aborted) return;
    main.querySelector("[data-org-name]").textContent = detail.display_name;
    main.querySelector("[data-team-code]").textContent = await teamSafetyCode(team.keys);
    main.querySelector("[data-my-role]").textContent = t("org.my_role", { role: t(`org.role_${detail.role}`) });
    main.querySelector("[data-members]").replaceChildren(...detail.members.map((m) => memberRow(m, detail)));
    main.querySelector("[data-admin-only]").hidden = detail.role !== "admin";
    main.querySelector("[data-org-detail]").hidden = false;
    status.textContent = "";
  }

  const lookup = async () => {
    showError(form, "");
    person = null;
    codeOk.checked = false;
    main.querySelector("[data-safety]").hidden = true;
    const handle = form.elements.handle.value.trim().toLowerCase();
    if (!handle) {
      showError(form, t("grant.handle_needed"));
      return false;
    }
    try {
      person = await lookupPerson(handle);
    } catch (error) {
      showError(form, messageFor(error));
      return false;
    }
    main.querySelector("[data-safety-code]").textContent = person.code;
    main.querySelector("[data-safety]").hidden = false;
    announce(t("grant.code_shown", { code: person.code }));
    return true;
  };
  form.querySelector("[data-lookup]").addEventListener("click", lookup);
  form.elements.handle.addEventListener("input", () => {
    person = null;
    main.querySelector("[data-safety]").hidden = true;
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(form, "");
    if (!person) {
      if (await lookup()) codeOk.focus();
      return;
    }
    if (!codeOk.checked) {
      showError(form, t("grant.compare_first"));
      codeOk.focus();
      return;
    }
    try {
      const added = await busy(form, () => addMember(org, person.keys.handle, form.elements.role.value));
      form.reset();
      person = null;
      main.querySelector("[data-safety]").hidden = true;
      said(t("org.added", { handle: added.handle, role: t(`org.role_${added.role}`) }));
      await load();
    } catch (error) {
      showError(form, messageFor(error));
    }
  });

  try {
    await load();
    if (ctx.params.get("created")) said(t("org.created"));
  } catch (error) {
    status.textContent = "";
    showError(main, messageFor(error));
  }
  return undefined;
});
