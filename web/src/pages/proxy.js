// Proxies: the mandates this person gave (and can end) and received (and can use or renounce).
import { t } from "../i18n.js";
import { mandatesGiven, mandatesReceived, renounceMandate, revokeMandate, termsOf } from "../proxy.js";
import { page, requireSession } from "../shell.js";
import { announce, el, messageFor, showError } from "../ui.js";

function stateBadge(state) {
  return el("span", { class: `state ${state}`, text: t(`proxy.state.${state}`) });
}

function card(mandate, heading, ...actions) {
  const terms = termsOf(mandate.descriptor);
  return el(
    "li",
    { dataset: { mandate: mandate.id } },
    el("h3", {}, heading, " ", stateBadge(mandate.state)),
    el("p", { text: terms.what }),
    el("p", { text: terms.why }),
    el("p", { class: "details", text: terms.until }),
    actions.length ? el("div", { class: "actions" }, ...actions) : null,
  );
}

page("proxy", async (main, ctx) => {
  if (!requireSession(ctx)) return;
  const status = main.querySelector("[data-status]");
  async function load() {
    const [given, received] = await Promise.all([mandatesGiven(), mandatesReceived()]);
    if (ctx.signal.aborted) return;
    const givenCards = given.map((m) => {
      const name = m.proxy?.handle ?? t("proxy.deleted_account");
      const actions = [];
      if (m.state === "active") {
        actions.push(
          el("button", { type: "button", class: "danger", onclick: () => act(() => revokeMandate(m.id), "proxy.ended") }, t("proxy.revoke", { handle: name })),
        );
      }
      return card(m, t("proxy.given_to", { handle: name }), ...actions);
    });
    const receivedCards = received.map((m) =>
      card(
        m,
        t("proxy.received_from", { handle: m.owner.handle }),
        el("a", { class: "button primary", href: `/proxy/for/${m.id}` }, t("proxy.act_for", { handle: m.owner.handle })),
        el("button", { type: "button", onclick: () => act(() => renounceMandate(m.id), "proxy.renounced") }, t("proxy.renounce")),
      ),
    );
    main.querySelector("[data-given]").replaceChildren(...givenCards);
    main.querySelector("[data-given-empty]").hidden = givenCards.length > 0;
    main.querySelector("[data-received]").replaceChildren(...receivedCards);
    main.querySelector("[data-received-empty]").hidden = receivedCards.length > 0;
    status.textContent = "";
    main.querySelector("[data-proxies]").hidden = false;
  }
  async function act(work, done) {
    showError(main, "");
    try {
      await work();
      announce(t(done));
      await load();
    } catch (error) {
      showError(main, messageFor(error));
    }
  }
  try {
    await load();
  } catch (error) {
    status.textContent = "";
    showError(main, messageFor(error));
  }
});
