// What needs the owner's attention, worked out in this browser from decrypted data. The same
// rules as the CLI's (wallet/client/attention.py; tests/test_attention.py runs both on the same
// cases):
// - a paper whose expiry date is past is "expired"; one that expires within 30 days (today
//   included) is "expiring";
// - a request someone sent the owner that is still open is "waiting" for an answer;
// - a grant or mandate that ends within 14 days (today included) is "ending".
// Days are counted in the owner's time zone (this browser's, unless one is given). This module
// imports nothing of the page: node runs it as it is.

export const PAPER_DAYS = 30;
export const ACCESS_DAYS = 14;
export const KINDS = ["paper_expired", "request_waiting", "paper_expiring", "mandate_ending", "grant_ending"];

const DAY_MS = 86_400_000;

// One formatter per time zone: making one costs far more than using it.
const formatters = new Map();

/** The calendar day (YYYY-MM-DD) it is at `now` in `timeZone` (default: this browser's). */
export function todayIn(timeZone, now = new Date()) {
  const key = timeZone ?? "";
  if (!formatters.has(key)) {
    formatters.set(key, new Intl.DateTimeFormat("en-US", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }));
  }
  const parts = formatters.get(key).formatToParts(now);
  const part = (type) => parts.find((p) => p.type === type).value;
  return `${part("year")}-${part("month")}-${part("day")}`;
}

/** A YYYY-MM-DD date as days since 1970 (UTC), or null when it is not a real date. */
function dayNumber(value) {
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  const [y, m, d] = value.split("-").map(Number);
  const time = Date.UTC(y, m - 1, d);
  const back = new Date(time);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== m - 1 || back.getUTCDate() !== d) return null;
  return Math.round(time / DAY_MS);
}

export function isDay(value) {
  return dayNumber(value) !== null;
}

/** Days from `today` to `day` (both YYYY-MM-DD): 0 today, negative in the past. */
export function daysBetween(today, day) {
  return dayNumber(day) - dayNumber(today);
}

/** { state: "expired" | "expiring", days } for a paper's expiry date, or null. */
export function expiryState(expiry, today) {
  if (!isDay(expiry)) return null;
  const days = daysBetween(today, expiry);
  if (days < 0) return { state: "expired", days };
  if (days <= PAPER_DAYS) return { state: "expiring", days };
  return null;
}

function ending(endsAt, timeZone, now) {
  if (typeof endsAt !== "string" || !endsAt) return null;
  // A time without a zone is UTC, as the Python client reads it.
  const end = new Date(/(Z|[+-]\d{2}:?\d{2})$/.test(endsAt) ? endsAt : `${endsAt}Z`);
  if (Number.isNaN(end.getTime()) || end <= now) return null;
  const day = todayIn(timeZone, end);
  const days = daysBetween(todayIn(timeZone, now), day);
  return days <= ACCESS_DAYS ? { day, days } : null;
}

const compare = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The rules, on plain records (the same shapes as the Python client's `summarise`):
 *   documents {id, title, expiry_date}; requests {id, requester, purpose, due, status, direction};
 *   grants {id, to, expires_at}; mandates {id, who, expires_at}.
 * Returns [{kind, id, title, date, days}], what is late first.
 */
export function summarise({ documents = [], requests = [], grants = [], mandates = [], timeZone, now = new Date() } = {}) {
  const today = todayIn(timeZone, now);
  const items = [];
  for (const doc of documents) {
    const found = expiryState(doc.expiry_date, today);
    if (found) items.push({ kind: `paper_${found.state}`, id: doc.id, title: doc.title || "", date: doc.expiry_date, days: found.days });
  }
  for (const request of requests) {
    if (request.direction !== "incoming" || request.status !== "open") continue;
    const due = isDay(request.due) ? request.due : today;
    items.push({
      kind: "request_waiting",
      id: request.id,
      title: `${request.requester ?? ""}: ${request.purpose ?? ""}`,
      date: due,
      days: daysBetween(today, due),
    });
  }
  for (const [kind, rows, who] of [
    ["grant_ending", grants, "to"],
    ["mandate_ending", mandates, "who"],
  ]) {
    for (const row of rows) {
      const found = ending(row.expires_at, timeZone, now);
      if (found) items.push({ kind, id: row.id, title: String(row[who] ?? ""), date: found.day, days: found.days });
    }
  }
  items.sort(
    (a, b) =>
      KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind) || a.days - b.days || compare(a.title, b.title) || compare(a.id, b.id),
  );
  return items;
}
