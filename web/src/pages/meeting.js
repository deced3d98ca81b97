// Meeting mode: pick the papers to show, start the meeting (the account keys are forgotten),
// show only those, and end it with the passphrase. A wrong passphrase keeps the mask.
import { t } from "../i18n.js";
import { activeMeeting, endMeeting, refreshMeetingBanner, startMeeting } from "../meeting.js";
import { getSession } from "../session.js";
import { page } from "../shell.js";
import { announce, busy, clearError, el, messageFor, showError } from "../ui.js";
import { fetchPlaintext, listDocuments, login, versions } from "../vault.js";

function titleOf(meta) {
  return meta.title || meta.file_name || t("documents.untitled");
}

async function choose(main, ctx) {
  const section = main.querySelector("[data-choose]");
  section.hidden = false;
  const status = section.querySelector("[data-status]");
  const list = section.querySelector("[data-pick-list]");
  const form = section.querySelector("form[data-pick]");
  let documents;
  try {
    documents = await listDocuments();
  } catch (error) {
    status.textContent = "";
    showError(main, messageFor(error));
    return;
  }
  if (ctx.signal.aborted) return;
  status.textContent = documents.length ? "" : t("meeting.no_documents");
  list.replaceChildren(
    ...documents.map((doc, index) =>
      el(
        "li",
        {},
        el(
          "label",
          { for: `pick-${index}` },
          el("input", { type: "checkbox", id: `pick-${index}`, name: "doc", value: doc.id }),
          el(
            "span",
            {},
            el("span", { class: "title", text: titleOf(doc.meta) }),
            " ",
            el("span", { class: "details", text: t(`types.${doc.meta.type || "other"}`) }),
          ),
        ),
      ),
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(form);
    const chosen = [...form.querySelectorAll("input[name=doc]:checked")].map((input) => input.value);
    if (!chosen.length) {
      showError(form, t("meeting.pick_one"));
      return;
    }
    await busy(form, async () => {
      try {
        // Everything the meeting needs is opened now, while the keys are still here.
        const picked = [];
        for (const id of chosen) {
          const detail = await versions(id);
          const version = detail.versions.at(-1);
          picked.push({ id, title: titleOf(version.meta), type: version.meta.type || "other", version });
        }
        const handle = getSession().account.handle;
        // Drop what the list decrypted: the other documents' keys and titles.
        documents.length = 0;
        list.replaceChildren();
        startMeeting(handle, picked);
        announce(t("meeting.started"));
        await ctx.navigate("/meeting", { replace: true, history: false });
      } catch (error) {
        showError(form, messageFor(error));
      }
    });
  });
}

function during(main, ctx, meeting) {
  const section = main.querySelector("[data-during]");
  section.hidden = false;
  refreshMeetingBanner();
  const viewer = section.querySelector("[data-viewer]");
  const viewStatus = section.querySelector("[data-view-status]");
  const urls = new Set();
  const revokeAll = () => {
    for (const url of urls) URL.revokeObjectURL(url);
    urls.clear();
  };

  async function show(doc) {
    clearError(main);
    viewStatus.textContent = t("document.opening");
    try {
      const blob = await fetchPlaintext(doc.id, doc.version, { signal: ctx.signal });
      viewStatus.textContent = "";
      revokeAll();
      const url = URL.createObjectURL(blob);
      urls.add(url);
      let view;
      if (blob.type.startsWith("image/")) view = el("img", { src: url, alt: t("document.image_of", { name: doc.title }) });
      else if (blob.type === "application/pdf" || blob.type === "text/plain") view = el("iframe", { src: url, title: doc.title });
      else view = el("p", { text: t("document.cannot_show") });
      viewer.replaceChildren(view);
      viewer.hidden = false;
      announce(t("meeting.shown", { name: doc.title }));
    } catch (error) {
      viewStatus.textContent = "";
      if (error?.name !== "AbortError") showError(main, messageFor(error));
    }
  }

  section.querySelector("[data-shown-list]").replaceChildren(
    ...meeting.documents.map((doc) =>
      el(
        "li",
        { dataset: { id: doc.id } },
        el("h3", { text: doc.title }),
        el("p", { class: "details", text: t(`types.${doc.type}`) }),
        el("button", { type: "button", class: "primary", onclick: () => show(doc) }, t("meeting.show", { name: doc.title })),
      ),
    ),
  );

  const form = section.querySelector("form[data-unlock]");
  const pass = form.querySelector("#meeting-passphrase");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(form);
    if (!pass.value) {
      showError(form, t("meeting.type_passphrase"));
      pass.focus();
      return;
    }
    const status = form.querySelector("[data-status]");
    await busy(form, async () => {
      status.textContent = t("login.working");
      try {
        await login(meeting.handle, pass.value);
        pass.value = "";
        endMeeting();
        revokeAll();
        await ctx.navigate("/documents", { replace: true });
      } catch (error) {
        status.textContent = "";
        pass.value = "";
        showError(form, error?.status === 401 ? t("meeting.wrong_passphrase") : messageFor(error));
        pass.focus();
      }
    });
  });
  return revokeAll;
}

page("meeting", async (main, ctx) => {
  const meeting = activeMeeting();
  if (meeting) return during(main, ctx, meeting);
  if (!getSession()) {
    ctx.navigate(`/login?next=${encodeURIComponent("/meeting")}`, { replace: true });
    return undefined;
  }
  await choose(main, ctx);
  return undefined;
});
