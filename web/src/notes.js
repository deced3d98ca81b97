// Contact notes in the browser, like wallet/client/notes.py: a trace of each contact (date,
// who was there, what was said, what was decided), signed by its author and sealed to the
// owner and to the author; listed with every signature checked; exported with the journal as a
// CSV built here, for an appeal.
import { getJson, postJson } from "./api.js";
import { b64d, b64e, fromUtf8, isoNowSeconds } from "./crypto/encoding.js";
import { sign, verify } from "./crypto/signing.js";
import { seal } from "./crypto/wrap.js";
import { infoBytes, KIND, LABELS, statement } from "./protocol.js";
import { received } from "./grants.js";
import { fetchEntries, render, toCsv, verifyChain } from "./journal.js";
import { openForMe, signingKeyOf } from "./requests.js";
import { getSession } from "./session.js";
import { PlainError } from "./ui.js";

export const MAX_TEXT = 20_000;
export const noteInfo = (noteId, recipientKeyId) => infoBytes(LABELS.NOTE, noteId, recipientKeyId);

export class NoteChanged extends PlainError {
  constructor() {
    super("notes.changed");
  }
}

function session() {
  const current = getSession();
  if (!current) throw new PlainError("errors.locked");
  return current;
}

/** The people this account may write a note about: itself, and owners of grants it received. */
export async function subjects() {
  const { keys, account } = session();
  const me = {
    handle: account.handle,
    key_id: await keys.keyId(),
    public_encryption_key: b64e(keys.publicEncryptionKey),
    grantId: null,
  };
  const others = [];
  for (const grant of await received().catch(() => [])) {
    if (grant.team || grant.state !== "active") continue;
    others.push({ ...grant.owner, grantId: grant.id, purpose: grant.descriptor?.purpose || "" });
  }
  return { me, others };
}

/** Like add_note. `about` is one of subjects(); contactDate is "YYYY-MM-DD". */
export async function addNote({ about, text, contactDate, persons = [], actions = "" }) {
  const { keys, account } = session();
  const content = (text || "").trim();
  const decided = (actions || "").trim();
  if (!content) throw new PlainError("notes.text_needed");
  if (content.length + decided.length > MAX_TEXT) throw new PlainError("notes.too_long", { n: MAX_TEXT });
  const day = contactDate || new Date().toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(day))) throw new PlainError("notes.bad_date");
  const owner = about || (await subjects()).me;
  const noteId = crypto.randomUUID().replaceAll("-", "");
  const note = statement(KIND.CONTACT_NOTE, {
    note_id: noteId,
    owner: owner.handle,
    owner_key_id: owner.key_id,
    author: account.handle,
    author_key_id: await keys.keyId(),
    grant_id: owner.grantId ?? null,
    contact_date: day,
    persons: persons.map((p) => p.trim()).filter(Boolean),
    content,
    actions: decided,
    written_at: isoNowSeconds(),
  });
  const [message, signature] = sign(keys.signingSeed, note);
  await postJson("/notes", {
    note_id: noteId,
    grant_id: owner.grantId ?? null,
    owner_key_id: owner.key_id,
    sealed_for_owner: b64e(await seal(b64d(owner.public_encryption_key), message, noteInfo(noteId, owner.key_id))),
    sealed_for_author: b64e(await seal(keys.publicEncryptionKey, message, noteInfo(noteId, await keys.keyId()))),
    signature: b64e(signature),
  });
  return { id: noteId, owner: owner.handle };
}

/** One row of GET /notes, checked like open_note. */
export async function openNote(row) {
  const { keys } = session();
  const message = await openForMe(keys, noteInfo(row.id, await keys.keyId()), row.sealed, NoteChanged);
  const authorKey = await signingKeyOf(row.author, NoteChanged);
  let note;
  try {
    verify(authorKey, message, b64d(row.signature));
    note = JSON.parse(fromUtf8(message));
  } catch {
    throw new NoteChanged();
  }
  if (
    note.kind !== KIND.CONTACT_NOTE ||
    note.note_id !== row.id ||
    note.author !== row.author.handle ||
    note.author_key_id !== row.author.key_id ||
    note.owner !== row.owner.handle ||
    // No grant on the row: it was deleted with an account; the signed one is shown.
    ![null, undefined, note.grant_id].includes(row.grant_id)
  ) {
    throw new NoteChanged();
  }
  return {
    id: row.id,
    role: row.role,
    owner: note.owner,
    author: note.author,
    grant_id: note.grant_id ?? null,
    contact_date: String(note.contact_date),
    persons: Array.isArray(note.persons) ? note.persons.map(String) : [],
    content: String(note.content ?? ""),
    actions: String(note.actions ?? ""),
    written_at: String(note.written_at ?? ""),
    stored_at: row.created_at,
  };
}

/** Notes about you and notes you wrote, each checked; the newest contact first. */
export async function listNotes() {
  const notes = [];
  for (const row of await getJson("/notes")) notes.push(await openNote(row));
  return notes.sort(
    (a, b) => b.contact_date.localeCompare(a.contact_date) || b.written_at.localeCompare(a.written_at),
  );
}

function cell(value) {
  // A spreadsheet runs a cell that starts with = + - @ as a formula: never let it.
  let text = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

// The columns of notes.csv in `wallet notes export`.
const NOTE_FIELDS = ["id", "contact_date", "author", "owner", "persons", "content", "actions", "grant_id", "written_at"];

export function notesCsv(notes) {
  const lines = [NOTE_FIELDS.join(",")];
  for (const note of notes) {
    const row = { ...note, persons: note.persons.join("; ") };
    lines.push(NOTE_FIELDS.map((f) => cell(row[f])).join(","));
  }
  return `${lines.join("\r\n")}\r\n`;
}

/**
 * Notes about the owner and the whole journal in one CSV file: a title line, the notes table
 * (the columns of notes.csv), an empty line, a title line with the chain check, the journal
 * table (the columns of journal.csv). Built here; nothing is sent anywhere.
 */
export async function exportCsv(titles) {
  const notes = (await listNotes()).filter((n) => n.role === "owner").reverse();
  const entries = await fetchEntries();
  const check = await verifyChain(entries);
  const rendered = await render(entries);
  const text = [
    `${cell(titles.notes)}\r\n`,
    notesCsv(notes),
    "\r\n",
    `${cell(check.intact ? titles.journalIntact : titles.journalBroken)}\r\n`,
    toCsv(rendered),
  ].join("");
  return { text, notes: notes.length, entries: entries.length, intact: check.intact };
}
