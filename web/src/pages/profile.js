// The profile record: each field sealed on its own, signed by the owner (like the CLI).
import { t } from "../i18n.js";
import { page, requireSession } from "../shell.js";
import { busy, clearError, messageFor, showError } from "../ui.js";
import { profile, removeProfileField, setProfileField } from "../vault.js";

page("profile", async (main, ctx) => {
  if (!requireSession(ctx)) return;
  const form = main.querySelector("form[data-profile]");
  const status = main.querySelector("[data-status]");
  const saved = form.querySelector("[data-saved]");
  let current = {};
  try {
    current = await profile();
  } catch (error) {
    status.textContent = "";
    showError(main, messageFor(error));
    return;
  }
  for (const [name, value] of Object.entries(current)) {
    const input = form.elements.namedItem(name);
    if (input) input.value = value;
  }
  status.textContent = "";
  form.hidden = false;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(form);
    saved.hidden = true;
    await busy(form, async () => {
      try {
        for (const input of form.querySelectorAll("input[name], textarea[name]")) {
          const value = input.value.trim();
          const before = current[input.name] ?? "";
          if (value === before) continue;
          if (value) await setProfileField(input.name, value);
          else await removeProfileField(input.name);
          if (value) current[input.name] = value;
          else delete current[input.name];
        }
        saved.textContent = t("profile.saved");
        saved.hidden = false;
      } catch (error) {
        showError(form, messageFor(error));
      }
    });
  });
});
