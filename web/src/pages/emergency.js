// Emergency access (issue 14): the owner names trusted people, sees and refuses requests, ends
// an arrangement and prints a sheet for the helper; the helper asks, sees the wait counted down,
// then reads the owner's papers (decrypted here) or, for take over, chooses a new passphrase for
// the owner. Every key step is in web/src/emergency.js, the twin of wallet/client/emergency.py.
import {
  addTrusted,
  askForAccess,
  endArrangement,
  givenArrangements,
  openKeys,
  ownerBlob,
  ownerDocuments,
  receivedArrangements,
  refuseRequest,
  takeOver,
} from "../emergency.js";
import { b64d } from "../crypto/encoding.js";
import { lookupPerson, ownSafetyCode, safetyCode } from "../grants.js";
import { formatBytes, formatDate, t } from "../i18n.js";
import { safeFileName } from "../links.js";
import { MIN_STRENGTH, strength } from "../passphrase.js";
import { getSession } from "../session.js";
import { page, requireSession } from "../shell.js";
import { announce, busy, clearError, el, messageFor, PlainError, showError } from "../ui.js";

// A button's name starts with its visible words (WCAG 2.5.3), then says whose it is.
const named = (key, who) => `${t(key)} (${who})`;
const explain = (error) => (error?.i18n ? t(error.i18n, error.vars) : messageFor(error));
const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "3 days left…", "5 hours left…", "12 minutes left…": the time until access opens. */
export function timeLeft(releaseAt, owner, now = Date.now()) {
  const left = new Date(releaseAt).getTime() - now;
  const when = formatDate(releaseAt);
  if (left <= 0) return t("emergency.wait_over");
  if (left >= DAY) return t("emergency.left_days", { n: Math.ceil(left / DAY), when, owner });
  if (left >= HOUR) return t("emergency.left_hours", { n: Math.ceil(left / HOUR), when, owner });
  return t("emergency.left_minutes", { n: Math.max(1, Math.ceil(left / MINUTE)), when, owner });
}

function ownerStateText(row) {
  switch (row.state) {
    case "waiting":
      return t("emergency.state.waiting", { when: formatDate(row.release_at) });
    case "released":
      return t("emergency.state.released", { when: formatDate(row.release_at) });
    case "used":
      return t("emergency.state.used", { when: formatDate(row.taken_over_at) });
    case "ended":
      return t("emergency.state.ended");
    default:
      return t("emergency.state.standby");
  }
}

function fillSheet(main, row) {
  const sheet = main.querySelector("[data-sheet]");
  sheet.querySelector("[data-sheet-owner]").textContent = getSession()?.account?.handle ?? "";
  sheet.querySelector("[data-sheet-helper]").textContent = row.trusted.handle;
  sheet.querySelector("[data-sheet-access]").textContent = t(`emergency.access.${row.access}`);
  sheet.querySelector("[data-sheet-wait]").textContent = t("emergency.days", { n: row.wait_days });
  sheet.hidden = false;
  main.classList.add("has-sheet");
  sheet.querySelector("h2").setAttribute("tabindex", "-1");
  sheet.querySelector("h2").focus();
}

page("emergency", async (main, ctx) => {
  if (!requireSession(ctx)) return undefined;
  const status = main.querySelector("[data-status]");
  const done = main.querySelector("[data-done]");
  const given = main.querySelector("[data-given]");
  const receivedList = main.querySelector("[data-received]");
  const reader = main.querySelector("[data-reader]");
  const urls = new Set();
  const timers = new Set();
  let opened = null;

  const say = (text) => {
    done.textContent = text;
    done.hidden = !text;
  };

  // --- the owner's side ----------------------------------------------------------------------

  function ownerItem(row) {
    const who = row.trusted.handle;
    const item = el(
      "li",
      { dataset: { emergencyId: row.id, state: row.state } },
      el("span", { class: "title handle", text: who }),
      el("span", { class: "details", text: `${t(`emergency.access.${row.access}`)} · ${t("emergency.wait_days", { n: row.wait_days })}` }),
      el("span", { class: "details", dataset: { stateText: "" }, text: ownerStateText(row) }),
    );
    const actions = el("div", { class: "file-actions" });
    if (row.state === "waiting" || row.state === "released") {
      const refuse = el("button", { type: "button", class: "danger", dataset: { refuse: "" }, text: t("emergency.refuse"), "aria-label": named("emergency.refuse", who) });
      refuse.addEventListener("click", async () => {
        refuse.disabled = true;
        try {
          await refuseRequest(row.id);
          say(t("emergency.refused"));
          await showGiven();
        } catch (error) {
          refuse.disabled = false;
          showError(main, explain(error));
        }
      });
      actions.append(refuse);
    }
    if (row.state !== "ended") {
      const end = el("button", { type: "button", dataset: { end: "" }, text: t("emergency.end"), "aria-label": named("emergency.end", who) });
      end.addEventListener("click", async () => {
        end.disabled = true;
        try {
          await endArrangement(row.id);
          say(t("emergency.ended", { who }));
          await showGiven();
        } catch (error) {
          end.disabled = false;
          showError(main, explain(error));
        }
      });
      const sheet = el("button", { type: "button", dataset: { sheetFor: "" }, text: t("emergency.sheet"), "aria-label": named("emergency.sheet", who) });
      sheet.addEventListener("click", () => fillSheet(main, row));
      actions.append(sheet, end);
    }
    if (actions.children.length) item.append(actions);
    return item;
  }

  async function showGiven() {
    const rows = await givenArrangements();
    if (ctx.signal.aborted) return;
    given.replaceChildren(...rows.map(ownerItem));
    main.querySelector("[data-given-none]").hidden = rows.length > 0;
    status.textContent = "";
  }

  const form = main.querySelector("form[data-add]");
  const handleInput = form.querySelector("#em-handle");
  const personBox = form.querySelector("[data-person]");
  let person = null;
  handleInput.addEventListener("input", () => {
    person = null;
    personBox.hidden = true;
  });
  form.querySelector("[data-check]").addEventListener("click", async () => {
    clearError(form);
    clearError(main);
    const handle = handleInput.value.trim().toLowerCase();
    if (!handle) {
      showError(form, t("emergency.check_first"));
      handleInput.focus();
      return;
    }
    try {
      if (handle === getSession()?.account?.handle) throw new PlainError("emergency.not_yourself");
      person = await lookupPerson(handle);
      form.querySelector("[data-safety-code]").textContent = person.code;
      form.querySelector("#em-same").checked = false;
      personBox.hidden = false;
      form.querySelector("[data-safety-code]").scrollIntoView({ block: "nearest" });
    } catch (error) {
      person = null;
      personBox.hidden = true;
      showError(main, error?.status === 404 ? t("emergency.no_such_person", { handle }) : explain(error));
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(form);
    if (!person) {
      showError(form, t("emergency.check_first"));
      return;
    }
    if (!form.querySelector("#em-same").checked) {
      showError(form, t("emergency.confirm_code"));
      form.querySelector("#em-same").focus();
      return;
    }
    const access = form.querySelector("input[name=access]:checked")?.value;
    const waitDays = Number(form.querySelector("#em-wait").value);
    await busy(form, async () => {
      try {
        const added = await addTrusted(person.keys.handle, access, waitDays);
        say(t("emergency.added", { who: added.trusted }));
        handleInput.value = "";
        personBox.hidden = true;
        person = null;
        await showGiven();
      } catch (error) {
        showError(form, explain(error));
      }
    });
  });

  // --- the trusted person's side ---------------------------------------------------------------

  async function readPapers(row) {
    clearError(main);
    const owner = row.owner.handle;
    try {
      opened = await openKeys(row.id);
      const docs = await ownerDocuments(opened);
      if (ctx.signal.aborted) return;
      const fileStatus = reader.querySelector("[data-file-status]");
      const viewer = reader.querySelector("[data-viewer]");
      const blobOf = async (doc) => {
        const name = doc.meta.title || doc.meta.file_name || "";
        fileStatus.textContent = t("link.file_preparing", { name });
        const blob = await ownerBlob(opened, doc, {
          signal: ctx.signal,
          onProgress: (part, total) => {
            fileStatus.textContent = t("link.file_progress", { percent: Math.floor((part / Math.max(total, 1)) * 100) });
          },
        });
        fileStatus.textContent = "";
        const url = URL.createObjectURL(blob);
        urls.add(url);
        return { blob, url };
      };
      const used = new Set();
      const items = docs.map((doc) => {
        const title = doc.meta.title || doc.meta.file_name || t("documents.untitled");
        const fileName = safeFileName(doc.meta, used);
        const view = async () => {
          try {
            const { blob, url } = await blobOf(doc);
            const shown = blob.type.startsWith("image/")
              ? el("img", { src: url, alt: t("document.image_of", { name: title }) })
              : blob.type === "application/pdf" || blob.type === "text/plain"
                ? el("iframe", { src: url, title })
                : el("p", { text: t("link.cannot_show") });
            viewer.replaceChildren(shown);
            viewer.hidden = false;
            announce(t("link.shown", { name: title }));
          } catch (error) {
            fileStatus.textContent = explain(error);
          }
        };
        const save = async () => {
          try {
            const { url } = await blobOf(doc);
            const anchor = el("a", { href: url, download: fileName, hidden: true });
            document.body.append(anchor);
            anchor.click();
            anchor.remove();
          } catch (error) {
            fileStatus.textContent = explain(error);
          }
        };
        return el(
          "li",
          { dataset: { documentId: doc.id } },
          el(
            "div",
            { class: "shared-file" },
            el("span", { class: "title", text: title }),
            el("span", { class: "details", text: `${t(`types.${doc.meta.type || "other"}`)} · ${formatBytes(doc.size)}` }),
          ),
          el(
            "div",
            { class: "file-actions" },
            el("button", { type: "button", dataset: { view: "" }, text: t("link.view"), "aria-label": t("link.view_named", { name: title }), onclick: view }),
            el("button", { type: "button", dataset: { save: "" }, text: t("link.save"), "aria-label": t("link.save_named", { name: title }), onclick: save }),
          ),
        );
      });
      reader.querySelector("[data-papers]").replaceChildren(...items);
      reader.querySelector("[data-papers-none]").hidden = docs.length > 0;
      reader.querySelector("[data-reader-title]").textContent = t("emergency.papers_of", { owner });
      const takeover = reader.querySelector("form[data-takeover]");
      takeover.hidden = opened.access !== "takeover";
      takeover.querySelector("[data-takeover-title]").textContent = t("emergency.new_passphrase_for", { owner });
      reader.hidden = false;
      reader.querySelector("[data-reader-title]").focus();
    } catch (error) {
      showError(main, explain(error));
    }
  }

  async function helperItem(row) {
    const owner = row.owner.handle;
    const offer = t(`emergency.received_${row.access}`, { owner, n: row.wait_days });
    // The owner's key as the server shows it: compared aloud, like a grant's (pins last for
    // this tab's session only).
    const code = await safetyCode(b64d(row.owner.public_encryption_key), b64d(row.owner.public_signing_key));
    const item = el(
      "li",
      { dataset: { emergencyId: row.id, state: row.state } },
      el("span", { class: "title handle", text: owner }),
      el("span", { class: "details", text: offer }),
      el("span", { class: "details" }, `${t("emergency.their_code")} `, el("strong", { class: "safety-code-inline", dataset: { ownerCode: "" }, text: code })),
    );
    const actions = el("div", { class: "file-actions" });
    if (row.state === "standby") {
      const ask = el("button", { type: "button", class: "primary", dataset: { ask: "" }, text: t("emergency.ask"), "aria-label": named("emergency.ask", owner) });
      ask.addEventListener("click", async () => {
        ask.disabled = true;
        try {
          await askForAccess(row.id);
          say(t("emergency.asked", { owner }));
          await showReceived();
        } catch (error) {
          ask.disabled = false;
          showError(main, explain(error));
        }
      });
      actions.append(ask);
    } else if (row.state === "waiting") {
      const left = el("span", { class: "details", role: "timer", dataset: { countdown: "" }, text: timeLeft(row.release_at, owner) });
      item.append(left);
      const timer = setInterval(() => {
        left.textContent = timeLeft(row.release_at, owner);
      }, 30 * 1000);
      timers.add(timer);
    } else if (row.state === "released") {
      item.append(el("span", { class: "details", text: t("emergency.open_since", { when: formatDate(row.release_at) }) }));
      const open = el("button", { type: "button", class: "primary", dataset: { open: "" }, text: t("emergency.open"), "aria-label": named("emergency.open", owner) });
      open.addEventListener("click", async () => {
        open.disabled = true;
        await readPapers(row);
        open.disabled = false;
      });
      actions.append(open);
    }
    if (actions.children.length) item.append(actions);
    return item;
  }

  async function showReceived() {
    for (const timer of timers) clearInterval(timer);
    timers.clear();
    const rows = await receivedArrangements();
    if (ctx.signal.aborted) return;
    const items = [];
    for (const row of rows) items.push(await helperItem(row));
    if (ctx.signal.aborted) return;
    receivedList.replaceChildren(...items);
    main.querySelector("[data-received-none]").hidden = rows.length > 0;
  }

  const takeoverForm = reader.querySelector("form[data-takeover]");
  takeoverForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(takeoverForm);
    const next = takeoverForm.querySelector("#em-new").value;
    if (strength(next) < MIN_STRENGTH) {
      showError(takeoverForm, t("register.weak_passphrase"));
      return;
    }
    if (next !== takeoverForm.querySelector("#em-again").value) {
      showError(takeoverForm, t("register.mismatch"));
      return;
    }
    await busy(takeoverForm, async () => {
      try {
        const owner = await takeOver(opened, next);
        opened = null;
        takeoverForm.reset();
        reader.hidden = true;
        say(t("emergency.taken_over", { owner }));
        await showReceived();
      } catch (error) {
        showError(takeoverForm, explain(error));
      }
    });
  });

  // --- the sheet -------------------------------------------------------------------------------

  const sheet = main.querySelector("[data-sheet]");
  sheet.querySelector("[data-print]").addEventListener("click", () => window.print());
  sheet.querySelector("[data-sheet-close]").addEventListener("click", () => {
    sheet.hidden = true;
    main.classList.remove("has-sheet");
  });

  try {
    main.querySelector("[data-own-code]").textContent = await ownSafetyCode();
    await showGiven();
    await showReceived();
  } catch (error) {
    status.textContent = "";
    showError(main, explain(error));
  }
  return () => {
    for (const timer of timers) clearInterval(timer);
    for (const url of urls) URL.revokeObjectURL(url);
    opened?.keys?.wipe?.();
    opened = null;
  };
});
