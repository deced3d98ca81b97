// My links: working ones first, each with one-tap stop and, for links made on the web, the QR
// code again; old ones (used, expired, stopped) folded away.
import { formatDate, t } from "../i18n.js";
import { listLinks, printOnly, qrSvg, revokeLink } from "../links.js";
import { page, requireSession } from "../shell.js";
import { announce, el, messageFor, showError } from "../ui.js";

function describe(link) {
  const parts = [
    t(`share.state_${link.state}`),
    t("share.uses_left", { left: link.uses_left, total: link.uses_total }),
    t("share.items", { n: link.items.length }),
    t("share.until", { date: formatDate(link.expires_at) }),
  ];
  if (link.pin) parts.push(t("share.with_pin"));
  if (link.failed_pins) parts.push(t("share.failed_pins", { n: link.failed_pins }));
  return parts.join(" · ");
}

page("links", async (main, ctx) => {
  if (!requireSession(ctx)) return undefined;
  const status = main.querySelector("[data-status]");
  const done = main.querySelector("[data-done]");
  const qrBox = main.querySelector("[data-qr-box]");

  async function load() {
    const links = await listLinks();
    if (ctx.signal.aborted) return;
    if (links.refused) showError(main, messageFor(links.refused));
    const active = links.filter((l) => l.state === "active");
    const old = links.filter((l) => l.state !== "active");
    main.querySelector("[data-active]").replaceChildren(...active.map(row));
    main.querySelector("[data-old]").replaceChildren(...old.map(row));
    main.querySelector("[data-none]").hidden = active.length > 0;
    status.textContent = "";
  }

  function row(link) {
    const name = link.preview?.purpose || t("share.link_unnamed", { id: link.id.slice(0, 8) });
    const actions = [];
    if (link.url) {
      actions.push(
        el("button", {
          type: "button",
          text: t("share.show_qr"),
          "aria-label": t("share.show_qr_named", { name }),
          onclick: async () => {
            main.querySelector("[data-qr-title]").textContent = name;
            main.querySelector("[data-qr]").replaceChildren(await qrSvg(link.url, t("share.qr_label")));
            qrBox.hidden = false;
            qrBox.querySelector("h2").focus();
          },
        }),
      );
    }
    if (link.state === "active" || link.state === "locked") {
      actions.push(
        el("button", {
          type: "button",
          class: "danger",
          dataset: { revoke: link.id },
          text: t("share.stop"),
          "aria-label": t("share.stop_named", { name }),
          onclick: async (event) => {
            event.currentTarget.disabled = true;
            showError(main, "");
            try {
              await revokeLink(link.id);
              done.textContent = t("share.stopped", { name });
              done.hidden = false;
              announce(done.textContent);
              qrBox.hidden = true;
              await load();
              main.querySelector("h1").focus?.();
            } catch (error) {
              event.currentTarget.disabled = false;
              showError(main, messageFor(error));
            }
          },
        }),
      );
    }
    return el(
      "li",
      { dataset: { linkId: link.id, state: link.state } },
      el("div", {}, el("span", { class: "title", text: name }), el("span", { class: "details", text: describe(link) })),
      actions.length ? el("div", { class: "file-actions" }, ...actions) : null,
    );
  }

  main.querySelector("[data-print-qr]").addEventListener("click", () => printOnly(qrBox));
  main.querySelector("[data-close-qr]").addEventListener("click", () => {
    qrBox.hidden = true;
  });
  try {
    await load();
  } catch (error) {
    status.textContent = "";
    showError(main, messageFor(error));
  }
  return undefined;
});
