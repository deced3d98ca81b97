// The journal: plain sentences, newest first, failed attempts highlighted, what belongs together
// on one line, routine checks folded away, the hash chain checked here in the browser, and a
// CSV (every entry, one per line) built here for download.
import { checkHead, fetchEntries, fold, render, toCsv, verifyChain } from "../journal.js";
import { t } from "../i18n.js";
import { page, requireSession } from "../shell.js";
import { el, messageFor, showError } from "../ui.js";

page("journal", async (main, ctx) => {
  if (!requireSession(ctx)) return undefined;
  const status = main.querySelector("[data-status]");
  const chain = main.querySelector("[data-chain]");
  const list = main.querySelector("[data-entries]");
  const onlyAlerts = main.querySelector("[data-only-alerts]");
  const showRoutine = main.querySelector("[data-show-routine]");
  const exportButton = main.querySelector("[data-export]");
  let rendered = [];
  let rows = [];
  const urls = [];
  try {
    const entries = await fetchEntries();
    let check = await verifyChain(entries);
    if (check.intact) check = { ...check, ...checkHead(entries), count: check.count };
    rendered = await render(entries);
    rows = fold(rendered);
    if (ctx.signal.aborted) return undefined;
    chain.hidden = false;
    chain.setAttribute("role", check.intact ? "status" : "alert");
    chain.className = check.intact ? "success" : "error";
    chain.dataset.intact = check.intact ? "1" : "0";
    chain.textContent = check.intact
      ? t("journal.intact", { n: check.count })
      : t(`journal.broken_${check.reason}`, { seq: check.seq });
    status.textContent = "";
  } catch (error) {
    status.textContent = "";
    showError(main, messageFor(error));
    return undefined;
  }

  const draw = () => {
    const shown = [...rows]
      .reverse()
      .filter((r) => (!onlyAlerts.checked || r.alert) && (showRoutine.checked || !r.routine));
    list.replaceChildren(
      ...shown.map((r) =>
        el(
          "li",
          { class: r.alert ? "alert" : null, dataset: { event: r.event, seq: String(r.seq) } },
          el("time", { datetime: r.at, text: r.when }),
          r.alert ? el("strong", { class: "alert-mark", text: `${t("journal.alert")} ` }) : null,
          el("span", { text: r.sentence }),
        ),
      ),
    );
  };
  onlyAlerts.addEventListener("change", draw);
  showRoutine.addEventListener("change", draw);
  draw();
  exportButton.disabled = false;
  exportButton.addEventListener("click", () => {
    const url = URL.createObjectURL(new Blob([toCsv(rendered)], { type: "text/csv;charset=utf-8" }));
    urls.push(url);
    const anchor = el("a", { href: url, download: `journal-${new Date().toISOString().slice(0, 10)}.csv`, hidden: true });
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
  });
  return () => {
    for (const url of urls) URL.revokeObjectURL(url);
  };
});
