// The start page: what the wallet is, that it is never compulsory, and the two ways in.
import { page } from "../shell.js";
import { getSession } from "../session.js";

page("start", (main) => {
  // Someone already unlocked in this tab is not offered to create a wallet: one way on.
  const signedIn = Boolean(getSession());
  for (const node of main.querySelectorAll("[data-signed-out]")) node.hidden = signedIn;
  for (const node of main.querySelectorAll("[data-signed-in]")) node.hidden = !signedIn;
});
