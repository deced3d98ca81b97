// The kiosk start page: sets kiosk mode for this tab (the server set the session cookie) and
// says plainly that the computer keeps nothing. The countdown and "End session" come from
// kiosk_hooks.js, loaded on every page.
import { isKiosk, startKiosk } from "../kiosk.js";
import { drawAttention } from "../reminders.js";
import { getSession } from "../session.js";
import { page } from "../shell.js";

page("kiosk", async (main, ctx) => {
  if (!document.documentElement.classList.contains("kiosk")) {
    // Arrived by soft navigation from a normal page: start again as a kiosk, from scratch.
    if (isKiosk()) startKiosk();
  }
  if (ctx.params.get("ended")) main.querySelector("[data-ended]").hidden = false;
  // Back on this page with the wallet open: what needs attention, with a slip to print (a
  // person at a public computer cannot take a file home).
  if (getSession()) await drawAttention(main, ctx).catch(() => []);
});
