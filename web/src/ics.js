// A paper's expiry date as an iCalendar (.ics) file, made with the `ics` package. Loaded only
// when the person asks for it (document.js imports it on click): its own chunk.
import { createEvent } from "ics";

/**
 * The .ics text of one all-day event on `day` (YYYY-MM-DD), with reminders 30 days and 1 day
 * before - like the CLI's `wallet ics` (wallet/client/attention.py).
 */
export function expiryCalendar({ uid, summary, description, day }) {
  const [y, m, d] = day.split("-").map(Number);
  const next = new Date(Date.UTC(y, m - 1, d + 1));
  const { error, value } = createEvent({
    uid,
    productId: "-//Personal document wallet//reminders//EN",
    title: summary,
    description,
    start: [y, m, d],
    end: [next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate()],
    busyStatus: "FREE",
    alarms: [
      { action: "display", description: summary, trigger: { days: 30, before: true } },
      { action: "display", description: summary, trigger: { days: 1, before: true } },
    ],
  });
  if (error) throw error;
  return value;
}
