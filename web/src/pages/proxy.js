// Proxies: the mandates this person gave (and can end) and received (and can use or renounce),
// and a form to give one: the trusted person's safety code compared first, procedures (never
// all), actions, duration and purpose; then the printable attestation with its check QR code.
import { lookupPerson } from "../grants.js";
import { t } from "../i18n.js";
import { printOnly, qrSvg } from "../links.js";
import {
  attestationHtml,
  attestationTerms,
  checkUrl,
  createMandate,
  mandatesGivenChecked,
  mandatesReceived,
  renounceMandate,
  revokeMandate,
  termsOf,
} from "../proxy.js";
import { page, requireSession } from "../shell.js";
import { listDocuments } from "../vault.js";
import { announce, busy, clearError, el, messageFor, showError } from "../ui.js";

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
    const [given, received] = await Promise.all([mandatesGivenChecked(), mandatesReceived()]);
    if (ctx.signal.aborted) return;
    // The server showed a mandate the owner ended as running again: shown ended, and said.
    if (given.refused) showError(main, messageFor(given.refused));
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
  const urls = new Set();
  wireGive(main, load, urls);
  try {
    await load();
  } catch (error) {
    status.textContent = "";
    showError(main, messageFor(error));
  }
  return () => {
    for (const url of urls) URL.revokeObjectURL(url);
  };
});

function wireGive(main, reload, urls) {
  const form = main.querySelector("form[data-mandate]");
  const handleInput = form.querySelector("#mandate-handle");
  const safety = form.querySelector("[data-safety]");
  const codeOk = form.querySelector("#mandate-code-ok");
  const formStatus = form.querySelector("[data-mandate-status]");
  let person = null;
  const lookup = async () => {
    clearError(form);
    person = null;
    safety.hidden = true;
    codeOk.checked = false;
    const handle = handleInput.value.trim();
    if (!handle) {
      showError(form, t("grant.handle_needed"));
      handleInput.focus();
      return null;
    }
    try {
      person = await lookupPerson(handle);
    } catch (error) {
      showError(form, error?.status === 404 ? t("grant.no_such_person", { handle }) : messageFor(error));
      return null;
    }
    form.querySelector("[data-safety-code]").textContent = person.code;
    form.querySelector("[data-safety-changed]").hidden = !person.changed;
    safety.hidden = false;
    announce(t("grant.code_shown", { code: person.code }));
    return person;
  };
  form.querySelector("[data-lookup]").addEventListener("click", lookup);
  handleInput.addEventListener("input", () => {
    person = null;
    safety.hidden = true;
  });
  const checked = (name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
  // Single documents a mandate may name (scope.documents), besides whole procedures.
  listDocuments()
    .then((documents) => {
      if (!form.isConnected) return; // the person left the page meanwhile
      form.querySelector("[data-mandate-docs]").replaceChildren(
        ...documents.map((doc) =>
          el(
            "label",
            {},
            el("input", { type: "checkbox", name: "mandate_documents", value: doc.id }),
            ` ${doc.meta.title || doc.meta.file_name || t("documents.untitled")}`,
          ),
        ),
      );
      form.querySelector("[data-mandate-docs-box]").hidden = documents.length === 0;
    })
    .catch(() => {
      form.querySelector("[data-mandate-docs-box]").hidden = true;
    });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(form);
    const purpose = form.querySelector("#mandate-purpose").value.trim();
    const fail = (key, selector) => {
      showError(form, t(key));
      if (selector) form.querySelector(selector)?.focus();
    };
    if (!person) {
      if (await lookup()) codeOk.focus();
      return;
    }
    if (!codeOk.checked) return fail("grant.compare_first", "#mandate-code-ok");
    if (!checked("categories").length && !checked("mandate_documents").length) {
      return fail("mandate.scope_needed", 'input[name="categories"]');
    }
    if (!checked("actions").length) return fail("mandate.actions_needed", 'input[name="actions"]');
    if (!purpose) return fail("mandate.purpose_needed", "#mandate-purpose");
    await busy(form, async () => {
      formStatus.textContent = t("mandate.working");
      try {
        const created = await createMandate(person.keys.handle, {
          categories: checked("categories"),
          documentIds: checked("mandate_documents"),
          actions: checked("actions"),
          duration: form.querySelector("#mandate-duration").value,
          purpose,
        });
        formStatus.textContent = "";
        form.reset();
        person = null;
        safety.hidden = true;
        await showAttestation(main, created.descriptor, urls);
        announce(t("mandate.created", { handle: created.proxy, n: created.documents }));
        await reload();
      } catch (error) {
        formStatus.textContent = "";
        showError(form, messageFor(error));
      }
    });
  });
}

async function showAttestation(main, descriptor, urls) {
  const section = main.querySelector("[data-attestation]");
  const terms = attestationTerms(descriptor);
  const url = checkUrl(descriptor.mandate_id, descriptor.check_code);
  section.querySelector("[data-attestation-title]").textContent = terms.title;
  section.querySelector("[data-attestation-qr]").replaceChildren(await qrSvg(url, t("mandate.qr_label")));
  section.querySelector("[data-attestation-terms]").replaceChildren(
    ...["who", "what", "until", "why", "never", "signed"].map((k) => el("p", { text: terms[k] })),
  );
  section.querySelector("[data-attestation-check]").textContent = terms.check;
  section.querySelector("[data-attestation-url]").textContent = url;
  section.querySelector("[data-attestation-says]").textContent = terms.checkSays;
  const html = await attestationHtml(descriptor);
  const file = URL.createObjectURL(new Blob([html], { type: "text/html" }));
  urls.add(file);
  section.querySelector("[data-print-attestation]").onclick = () => printOnly(section);
  section.querySelector("[data-save-attestation]").onclick = () => {
    const anchor = el("a", { href: file, download: `mandate-${descriptor.mandate_id.slice(0, 8)}.html`, hidden: true });
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
  };
  section.dataset.mandateId = descriptor.mandate_id;
  section.hidden = false;
  section.querySelector("h2").focus();
}
