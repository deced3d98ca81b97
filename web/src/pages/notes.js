// Contact notes: the notes about the owner and those this person wrote as a worker, each
// checked against its author's signature; a form to add one (sealed to the owner and the
// author, signed); one CSV with the notes and the journal, built here, for an appeal.
import { formatDate, t } from "../i18n.js";
import { addNote, exportCsv, listNotes, subjects } from "../notes.js";
import { page, requireSession } from "../shell.js";
import { announce, busy, el, messageFor, showError } from "../ui.js";

const dayText = (day) => formatDate(`${day}T12:00:00Z`) || day;

function noteCard(note, mine) {
  const heading =
    note.role === "owner"
      ? t(note.author === mine ? "notes.by_you" : "notes.by", { date: dayText(note.contact_date), who: note.author })
      : t("notes.about", { date: dayText(note.contact_date), who: note.owner });
  return el(
    "li",
    { dataset: { note: note.id, role: note.role } },
    el(
      "div",
      { class: "shared-file" },
      el("h3", { class: "title", text: heading }),
      el("p", { class: "details", text: t("notes.present", { persons: note.persons.join(", ") || t("notes.not_noted") }) }),
      el("p", { text: t("notes.said", { text: note.content }) }),
      note.actions && el("p", { text: t("notes.decided", { text: note.actions }) }),
    ),
  );
}

page("notes", async (main, ctx) => {
  const session = requireSession(ctx);
  if (!session) return undefined;
  const status = main.querySelector("[data-status]");
  const done = main.querySelector("[data-done]");
  const form = main.querySelector("form[data-note]");
  const about = form.querySelector("#note-about");
  const exportButton = main.querySelector("[data-export]");
  const urls = [];
  form.querySelector("#note-date").value = new Date().toISOString().slice(0, 10);
  let people = [];

  async function load() {
    const notes = await listNotes();
    if (ctx.signal.aborted) return;
    const mine = session.account.handle;
    const aboutMe = notes.filter((n) => n.role === "owner").map((n) => noteCard(n, mine));
    const written = notes.filter((n) => n.role === "author").map((n) => noteCard(n, mine));
    main.querySelector("[data-about]").replaceChildren(...aboutMe);
    main.querySelector("[data-none-about]").hidden = aboutMe.length > 0;
    main.querySelector("[data-written]").replaceChildren(...written);
    main.querySelector("[data-written-section]").hidden = written.length === 0;
    status.textContent = "";
  }

  try {
    const { me, others } = await subjects();
    people = [me, ...others];
    about.replaceChildren(
      el("option", { value: "0", text: t("notes.about_me") }),
      ...others.map((o, i) =>
        el("option", { value: String(i + 1), text: t("notes.about_person", { who: o.handle, purpose: o.purpose || "—" }) }),
      ),
    );
    form.querySelector("[data-about-field]").hidden = others.length === 0;
    await load();
    exportButton.disabled = false;
  } catch (error) {
    status.textContent = "";
    showError(main, messageFor(error));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(form, "");
    done.hidden = true;
    const said = form.querySelector("#note-said");
    if (!said.value.trim()) {
      showError(form, t("notes.text_needed"));
      said.focus();
      return;
    }
    try {
      const added = await busy(form, () =>
        addNote({
          about: people[Number(about.value || 0)],
          text: said.value,
          contactDate: form.querySelector("#note-date").value,
          persons: form.querySelector("#note-persons").value.split(","),
          actions: form.querySelector("#note-decided").value,
        }),
      );
      for (const id of ["#note-persons", "#note-said", "#note-decided"]) form.querySelector(id).value = "";
      done.textContent =
        added.owner === session.account.handle ? t("notes.saved_own") : t("notes.saved", { who: added.owner });
      done.hidden = false;
      announce(done.textContent);
      await load();
    } catch (error) {
      showError(form, messageFor(error));
    }
  });

  exportButton.addEventListener("click", async () => {
    showError(main, "");
    exportButton.disabled = true;
    try {
      const built = await exportCsv({
        notes: t("notes.csv_notes"),
        journalIntact: t("notes.csv_journal_intact"),
        journalBroken: t("notes.csv_journal_broken"),
      });
      const url = URL.createObjectURL(new Blob([built.text], { type: "text/csv;charset=utf-8" }));
      urls.push(url);
      const name = `notes-and-journal-${new Date().toISOString().slice(0, 10)}.csv`;
      const anchor = el("a", { href: url, download: name, hidden: true });
      document.body.append(anchor);
      anchor.click();
      anchor.remove();
      announce(t("notes.exported", { notes: built.notes, entries: built.entries }));
    } catch (error) {
      showError(main, messageFor(error));
    } finally {
      exportButton.disabled = false;
    }
  });

  return () => {
    for (const url of urls) URL.revokeObjectURL(url);
  };
});
