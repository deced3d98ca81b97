// The wallet card: the wallet name as text and QR code, to print (nothing secret on it).
import { walletCard } from "../card.js";
import { getSession } from "../session.js";
import { page, requireSession } from "../shell.js";

page("wallet_card", (main, ctx) => {
  if (!requireSession(ctx)) return;
  main.querySelector("[data-card-slot]").replaceChildren(walletCard(getSession().account.handle));
  main.querySelector("[data-print]").addEventListener("click", () => window.print());
});
