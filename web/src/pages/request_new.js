// A worker asks a person for documents (like `wallet request create`): the person's safety
// code is looked up, shown and confirmed first; the request is signed here and sealed to the
// person and to the worker. The server sees neither the purpose nor the types.
import { lookupPerson } from "../grants.js";
import { formatDate, t } from "../i18n.js";
import { addDays, createRequest, MAX_DUE_DAYS } from "../requests.js";
import { page, requireSession } from "../shell.js";
import { announce, busy, messageFor, showError } from "../ui.js";

page("request_new", async (main, ctx) => {
  if (!requireSession(ctx)) return undefined;
  const form = main.querySelector("[data-ask]");
  const codeOk = form.querySelector("#ask-code-ok");
  const safety = main.querySelector("[data-safety]");
  const today = new Date().toISOString().slice(0, 10);
  form.elements.due.value = addDays(today, 30);
  form.elements.due.min = today;
  form.elements.due.max = addDays(today, MAX_DUE_DAYS);
  const to = ctx.params.get("to");
  if (to) form.elements.handle.value = to;
  let person = null;

  const lookup = async () => {
    showError(form, "");
    person = null;
    codeOk.checked = false;
    safety.hidden = true;
    const handle = form.elements.handle.value.trim().toLowerCase();
    if (!handle) {
      showError(form, t("grant.handle_needed"));
      form.elements.handle.focus();
      return false;
    }
    try {
      person = await lookupPerson(handle);
    } catch (error) {
      showError(form, messageFor(error));
      return false;
    }
    main.querySelector("[data-safety-code]").textContent = person.code;
    safety.hidden = false;
    announce(t("grant.code_shown", { code: person.code }));
    return true;
  };
  form.querySelector("[data-lookup]").addEventListener("click", lookup);
  form.elements.handle.addEventListener("input", () => {
    person = null;
    safety.hidden = true;
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(form, "");
    if (!person) {
      if (await lookup()) codeOk.focus();
      return;
    }
    if (!codeOk.checked) {
      showError(form, t("grant.compare_first"));
      codeOk.focus();
      return;
    }
    const types = [...form.querySelectorAll('input[name="types"]:checked')].map((box) => box.value);
    try {
      const created = await busy(form, () =>
        createRequest(person, {
          types,
          purpose: form.elements.purpose.value,
          message: form.elements.message.value,
          due: form.elements.due.value || null,
        }),
      );
      form.hidden = true;
      const result = main.querySelector("[data-result]");
      main.querySelector("[data-result-summary]").textContent = t("request_new.sent", {
        handle: created.owner,
        date: formatDate(`${created.due}T12:00:00Z`),
      });
      result.hidden = false;
      result.querySelector("h2").focus();
      announce(main.querySelector("[data-result-summary]").textContent);
    } catch (error) {
      showError(form, messageFor(error));
    }
  });
  return undefined;
});
