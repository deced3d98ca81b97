// The owner's journal in the browser, like wallet/client/journal.py and wallet/protocol/journal_chain.py:
// fetch every entry, recompute the hash chain, and say each entry in a plain sentence with the
// titles and names only the owner's wallet knows. The CSV is built here, never on a server.
import { getJson } from "./api.js";
import { canonicalJson, concat, sha256Hex, utf8 } from "./crypto/encoding.js";
import { grantsGiven } from "./grants.js";
import { locale, t } from "./i18n.js";
import { listLinks } from "./links.js";
import { mandatesGiven } from "./proxy.js";
import { openRequest } from "./requests.js";
import { getSession } from "./session.js";
import { listDocuments } from "./vault.js";

export const GENESIS = "0".repeat(64);
const HASHED_FIELDS = ["seq", "at", "event", "actor_kind", "actor_id", "subject_kind", "subject_id", "details"];

// Failed or suspicious events, highlighted; routine reads, folded; what a proxy does. The same
// sets as wallet/journal/events.py (tests/test_journal_sentences.py compares them).
export const ALERTS = new Set([
  "login_failed",
  "link_pin_failed",
  "link_locked",
  "recovery_failed",
  "oidc_login_failed",
  "state_refused", // a device refused the wallet as the service showed it (vaulthead.js)
]);
export const ROUTINE = new Set(["grant_listed", "mandate_listed"]);
export const PROXY_EVENTS = new Set([
  "mandate_listed",
  "mandate_download",
  "mandate_document_added",
  "mandate_link_created",
  "mandate_completed",
  "mandate_renounced",
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

// The sealed profile field that remembers the page language (pages/kiosk_hooks.js).
const LANGUAGE_FIELD = "language";
const TITLE_FALLBACK = (meta) => meta.title || meta.file_name || (meta.type ? t(`types.${meta.type}`) : "");

async function names() {
  const titles = new Map();
  const links = new Map();
  const grants = new Map();
  const mandates = new Map();
  const people = new Map();
  const requests = new Map();
  const known = { titles, links, grants, mandates, people, requests, currentSession: null, languageSlot: null };
  const keys = getSession()?.keys;
  await Promise.all([
    // Names only: a refused state (vaulthead.js) still leaves the journal readable.
    listDocuments()
      .then((docs) => {
        for (const d of docs) titles.set(d.id, TITLE_FALLBACK(d.meta));
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
    // The proxy's name as the owner signed it into the mandate (not as the server says).
    mandatesGiven()
      .then((rows) => {
        for (const m of rows) mandates.set(m.id, { who: m.descriptor.proxy, purpose: m.descriptor.purpose });
      })
      .catch(() => undefined),
    getJson("/requests")
      .then(async (rows) => {
        for (const r of rows) {
          if (r.requester) people.set(r.requester.id, r.requester.handle);
          const opened = await openRequest(r).catch(() => null);
          requests.set(r.id, { who: r.requester?.handle || "", purpose: opened?.purpose || "" });
        }
      })
      .catch(() => undefined),
    getJson("/notes?role=owner")
      .then((rows) => {
        for (const r of rows) if (r.author) people.set(r.author.id, r.author.handle);
      })
      .catch(() => undefined),
    getJson("/auth/sessions")
      .then((rows) => {
        known.currentSession = rows.find((r) => r.current)?.id ?? null;
      })
      .catch(() => undefined),
    Promise.resolve(keys?.profileSlot(LANGUAGE_FIELD))
      .then((slot) => {
        known.languageSlot = slot;
      })
      .catch(() => undefined),
  ]);
  return known;
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
  return new Intl.DateTimeFormat(locale(), {
    weekday: "long",
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  }).format(date);
}

const quoted = (text) => t("journal.quoted", { text });
const DEVICES = new Set(["kiosk", "phone", "tablet", "computer", "app"]);

/**
 * Adds { when, sentence, alert, routine, group } to each entry: one plain sentence in the
 * page's language, with the names and titles only this wallet can read, and never an id.
 */
export async function render(entries) {
  const known = await names();
  // Who opened a link (a logged-in worker who redeemed it), for the views that follow.
  const openerOfLink = new Map();
  // Each session's device, from its login, for its logout.
  const deviceOfSession = new Map();
  const rendered = [];
  for (const entry of entries) {
    const details = parseDetails(entry);
    const subject = entry.subject_id || "";
    const linkId = (entry.actor_kind === "link" ? entry.actor_id : entry.subject_kind === "link" ? subject : "") || "";
    if (entry.event === "link_redeemed") {
      openerOfLink.set(linkId, details.account ? known.people.get(details.account) || null : null);
    }
    let device = DEVICES.has(details.device) ? details.device : "";
    if (entry.event === "session_started" && entry.subject_kind === "session") deviceOfSession.set(subject, device);
    if (entry.event === "session_ended" || entry.event === "session_revoked") device = deviceOfSession.get(subject) || "";
    if (subject && subject === known.currentSession && entry.event === "session_started") device = "this";
    const grantId = details.grant || (entry.subject_kind === "grant" ? subject : "");
    const grant = known.grants.get(grantId);
    const mandateId = details.mandate || (entry.subject_kind === "mandate" ? subject : "");
    const mandate = known.mandates.get(mandateId);
    const request = entry.subject_kind === "request" ? known.requests.get(subject) : undefined;
    const title = entry.subject_kind === "document" ? known.titles.get(subject) : undefined;
    const linkName = known.links.get(linkId);
    const opener = openerOfLink.get(linkId);
    const purpose = grant?.purpose || mandate?.purpose || request?.purpose || "";
    let how = "";
    if (details.kind === "recovery" || details.with_recovery_key) how = t("journal.how_recovery");
    else if (details.via === "oidc") how = t("journal.how_oidc");
    const vars = {
      document: title ? quoted(title) : t("journal.a_document"),
      link: linkName ? t("journal.the_link", { name: quoted(linkName) }) : t("journal.a_link"),
      for: purpose ? t("journal.for_purpose", { purpose: quoted(purpose) }) : "",
      person: grant?.who || t("journal.someone"),
      person_mid: grant?.who || t("journal.someone_lower"),
      proxy: mandate?.who || t("journal.your_proxy"),
      proxy_mid: mandate?.who || t("journal.your_proxy_mid"),
      who: opener || t("journal.someone"),
      by: entry.actor_kind === "owner" ? t("journal.you") : known.people.get(entry.actor_id || "") || t("journal.someone"),
      requester: request?.who || t("journal.someone_lower"),
      how,
      device: device ? t(`journal.device.${device}`) : "",
      event: entry.event,
      reason: ["rewound", "changed", "unsigned"].includes(details.reason) ? t(`journal.refused_${details.reason}`) : "",
    };
    let key = `journal.event.${entry.event}`;
    let group = "";
    if (entry.event === "profile_changed" || entry.event === "profile_removed") {
      // One save of the profile page writes one entry per field: say it once.
      group = subject && subject === known.languageSlot ? "language" : "profile";
      if (group === "language") key = "journal.language_saved";
    }
    let sentence = t(key, vars);
    if (sentence === key) sentence = t("journal.event_unknown", vars);
    rendered.push({
      ...entry,
      when: formatWhen(entry.at),
      sentence,
      alert: ALERTS.has(entry.event),
      routine: ROUTINE.has(entry.event),
      group: group || `${entry.actor_kind}|${entry.actor_id || ""}|${sentence}`,
    });
  }
  return rendered;
}

// Entries of one group this close in time are one thing that happened (a profile saved, a
// download resumed, a list looked at again).
const FOLD_WITHIN_MS = 15 * 60 * 1000;

/**
 * The rows the page shows, oldest first: what belongs together is one row (`count` entries),
 * saying the newest time. Routine listing rows are kept, marked, for the page to fold away.
 */
export function fold(rendered) {
  const rows = [];
  for (const entry of rendered) {
    const last = rows.at(-1);
    const close = last && Date.parse(entry.at) - Date.parse(last.at) <= FOLD_WITHIN_MS;
    if (last && close && last.group === entry.group) {
      last.count += 1;
      last.at = entry.at;
      last.when = entry.when;
      last.seq = entry.seq;
      if (entry.group === "profile" && entry.event !== last.event) last.sentence = t("journal.profile_updated");
      continue;
    }
    rows.push({ ...entry, count: 1, first: entry.seq });
  }
  return rows;
}

/** What people acting for the owner did since the owner's previous login (the CLI's banner). */
export function sinceLastLogin(entries) {
  const starts = [];
  entries.forEach((e, i) => {
    if (e.event === "session_started") starts.push(i);
  });
  const since = starts.length >= 2 ? starts.at(-2) : -1;
  return entries.slice(since + 1).filter((e) => e.actor_kind === "account" && PROXY_EVENTS.has(e.event));
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
