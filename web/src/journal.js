// The owner's journal in the browser, like wallet/client/journal.py and wallet/protocol/journal_chain.py:
// fetch every entry, recompute the hash chain, and say each entry in a plain sentence with the
// titles and names only the owner's wallet knows. The CSV is built here, never on a server.
import { getJson } from "./api.js";
import { canonicalJson, concat, sha256Hex, utf8 } from "./crypto/encoding.js";
import { grantsGiven } from "./grants.js";
import { language, t } from "./i18n.js";
import { listLinks } from "./links.js";
import { listDocuments } from "./vault.js";

export const GENESIS = "0".repeat(64);
const HASHED_FIELDS = ["seq", "at", "event", "actor_kind", "actor_id", "subject_kind", "subject_id", "details"];

// Failed or suspicious events, highlighted (ALERTS in wallet/client/journal.py).
export const ALERTS = new Set([
  "login_failed",
  "link_pin_failed",
  "link_locked",
  "recovery_failed",
  "oidc_login_failed",
  "state_refused", // a device refused the wallet as the service showed it (vaulthead.js)
]);

export async function fetchEntries() {
  const entries = [];
  let after = 0;
  for (;;) {
    const page = await getJson(`/journal?after=${after}`);
    entries.push(...page.entries);
    if (page.next_after === null || page.next_after === undefined) return entries;
    after = page.next_after;
  }
}

export async function entryHash(prevHash, entry) {
  const body = {};
  for (const name of HASHED_FIELDS) body[name] = entry[name];
  return sha256Hex(concat(utf8(prevHash), canonicalJson(body)));
}

/** { intact, count, seq, reason } - recomputes every link, stops at the first break. */
export async function verifyChain(entries) {
  let prev = GENESIS;
  let expected = 1;
  for (const entry of entries) {
    if (entry.seq !== expected) return { intact: false, seq: entry.seq, reason: "missing", count: expected - 1 };
    if (entry.prev_hash !== prev) return { intact: false, seq: entry.seq, reason: "order", count: expected - 1 };
    if ((await entryHash(prev, entry)) !== entry.hash) {
      return { intact: false, seq: entry.seq, reason: "changed", count: expected - 1 };
    }
    prev = entry.hash;
    expected += 1;
  }
  return { intact: true, count: entries.length };
}

// The last entry this tab saw (check_head): a server that cuts the end off or rewrites the
// chain from some point on is caught while the page is open. Memory only, like the keys.
let seenHead = null;

export function checkHead(entries) {
  if (seenHead) {
    const at = entries[seenHead.seq - 1];
    if (!at || at.hash !== seenHead.hash) return { intact: false, seq: seenHead.seq, reason: "rewritten" };
  }
  if (entries.length) seenHead = { seq: entries.at(-1).seq, hash: entries.at(-1).hash };
  return { intact: true };
}

async function names() {
  const titles = new Map();
  const links = new Map();
  const grants = new Map();
  const people = new Map();
  await Promise.all([
    // Names only: a refused state (vaulthead.js) still leaves the journal readable.
    listDocuments()
      .then((docs) => {
        for (const d of docs) titles.set(d.id, d.meta.title || d.meta.file_name || "");
      })
      .catch(() => undefined),
    listLinks()
      .then((rows) => {
        for (const l of rows) if (l.preview?.purpose) links.set(l.id, l.preview.purpose);
      })
      .catch(() => undefined),
    grantsGiven()
      .then((rows) => {
        for (const g of rows) {
          grants.set(g.id, { who: g.organisation?.display_name || g.grantee.handle, purpose: g.descriptor.purpose });
        }
      })
      .catch(() => undefined),
    getJson("/requests")
      .then((rows) => {
        for (const r of rows) if (r.requester) people.set(r.requester.id, r.requester.handle);
      })
      .catch(() => undefined),
    getJson("/notes?role=owner")
      .then((rows) => {
        for (const r of rows) if (r.author) people.set(r.author.id, r.author.handle);
      })
      .catch(() => undefined),
  ]);
  return { titles, links, grants, people };
}

function parseDetails(entry) {
  try {
    return JSON.parse(entry.details || "{}");
  } catch {
    return {};
  }
}

export function formatWhen(at) {
  const date = new Date(at);
  return new Intl.DateTimeFormat(language(), {
    weekday: "long",
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  }).format(date);
}

/** Adds { when, sentence, alert } to each entry. */
export async function render(entries) {
  const known = await names();
  // Who opened a link (a logged-in worker who redeemed it), for the downloads that follow.
  const openerOfLink = new Map();
  const rendered = [];
  for (const entry of entries) {
    const details = parseDetails(entry);
    const subject = entry.subject_id || "";
    const linkId = (entry.actor_kind === "link" ? entry.actor_id : entry.subject_kind === "link" ? subject : "") || "";
    if (entry.event === "link_redeemed") {
      openerOfLink.set(linkId, details.account ? known.people.get(details.account) || null : null);
    }
    const grantId = details.grant || (entry.subject_kind === "grant" ? subject : "");
    const grant = known.grants.get(grantId);
    const title = entry.subject_kind === "document" ? known.titles.get(subject) : undefined;
    const linkName = known.links.get(linkId);
    const opener = openerOfLink.get(linkId);
    const vars = {
      document: title ? `“${title}”` : t("journal.a_document"),
      link: linkName ? `“${linkName}”` : t("journal.link_id", { id: linkId.slice(0, 8) }),
      grant: grant ? `“${grant.purpose}”` : t("journal.grant_id", { id: grantId.slice(0, 8) }),
      person: grant?.who || t("journal.someone"),
      who: opener || t("journal.someone"),
      by: entry.actor_kind === "owner" ? t("journal.you") : known.people.get(entry.actor_id || "") || t("journal.someone"),
      how: details.kind === "recovery" ? t("journal.how_recovery") : details.via === "oidc" ? t("journal.how_oidc") : "",
      id: subject.slice(0, 8),
      event: entry.event,
      reason: ["rewound", "changed", "unsigned"].includes(details.reason) ? t(`journal.refused_${details.reason}`) : "",
    };
    const key = `journal.event.${entry.event}`;
    let sentence = t(key, vars);
    if (sentence === key) sentence = t("journal.event_unknown", vars);
    rendered.push({ ...entry, when: formatWhen(entry.at), sentence, alert: ALERTS.has(entry.event) });
  }
  return rendered;
}

function cell(value) {
  // A spreadsheet runs a cell that starts with = + - @ as a formula: never let it.
  let text = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const CSV_FIELDS = ["seq", "at", "event", "sentence", "actor_kind", "actor_id", "subject_kind", "subject_id", "hash"];

/** The same columns as `wallet journal --csv`. */
export function toCsv(rendered) {
  const lines = [CSV_FIELDS.join(",")];
  for (const row of rendered) lines.push(CSV_FIELDS.map((f) => cell(row[f])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}
