// The start page: what the wallet is, that it is never compulsory, and the two ways in.
import { page } from "../shell.js";
import { getSession } from "../session.js";

page("start", (main) => {
  // Someone already unlocked in this tab goes straight on with a clear link.
  if (getSession()) {
    const primary = main.querySelector(".actions a.primary");
    if (primary) primary.setAttribute("href", "/documents");
  }
});
