// Emergency access (sharing/emergency): a request by the owner's trusted person is shown on
// the documents page at every login, with a one-tap refusal (like `wallet login` and
// `wallet ls` in the CLI). Setting up and ending arrangements is on /emergency
// (web/src/pages/emergency.js), in the CLI (`wallet emergency end`) and in the emergency reset.
import { getJson, request } from "./api.js";
import { formatDate, t } from "./i18n.js";
import { el, messageFor } from "./ui.js";

function line(row) {
  const who = row.trusted.handle;
  const key = row.state === "waiting" ? "emergency.notice.waiting" : "emergency.notice.released";
  const text = t(key, { who, when: formatDate(row.release_at) });
  const status = el("span", { role: "status" });
  const refuse = el("button", { type: "button", class: "button", text: t("emergency.refuse") });
  refuse.addEventListener("click", async () => {
    refuse.disabled = true;
    try {
      await request("POST", `/emergency/${row.id}/refuse`);
      refuse.remove();
      status.textContent = t("emergency.refused");
    } catch (error) {
      refuse.disabled = false;
      status.textContent = messageFor(error);
    }
  });
  return el("li", { dataset: { emergencyId: row.id, state: row.state } }, `${text} `, refuse, " ", status);
}

/** Fills `[data-emergency]` with the requests waiting or released; hidden when none. */
export async function drawEmergencyNotice(main, ctx) {
  const box = main.querySelector("[data-emergency]");
  if (!box) return;
  const rows = await getJson("/emergency").catch(() => []);
  if (ctx.signal.aborted) return;
  const open = rows.filter((row) => row.state === "waiting" || row.state === "released");
  if (!open.length) return;
  box.replaceChildren(
    el("h2", { class: "small-heading", text: t("emergency.notice.title") }),
    el("ul", {}, ...open.map((row) => line(row))),
  );
  box.hidden = false;
}
