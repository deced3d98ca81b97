// Passphrase helpers: a strength estimate that rewards several everyday words (easy to say and
// to remember) and a "show what I type" switch.

/** 0 (too weak) .. 4 (very strong): a rough entropy guess in bits, in steps. */
export function strength(passphrase) {
  const text = passphrase.normalize("NFC").trim();
  if (!text) return 0;
  const words = text.split(/[\s\-_.,;]+/).filter((w) => w.length >= 2);
  const distinct = new Set(words.map((w) => w.toLowerCase())).size;
  // About 11 bits per everyday word from a large vocabulary; characters count otherwise.
  const byWords = distinct * 11;
  let pool = 0;
  if (/[a-z]/.test(text)) pool += 26;
  if (/[A-Z]/.test(text)) pool += 26;
  if (/\d/.test(text)) pool += 10;
  if (/[^A-Za-z0-9\s]/u.test(text)) pool += 20;
  const byChars = text.length * Math.log2(Math.max(pool, 2)) * 0.5;
  const bits = Math.max(byWords, byChars);
  if (text.length < 10 || bits < 30) return 0;
  if (bits < 40) return 1;
  if (bits < 50) return 2;
  if (bits < 65) return 3;
  return 4;
}

export const MIN_STRENGTH = 2;

export function wireShowToggle(root) {
  const toggle = root.querySelector("[data-show-passphrase]");
  if (!toggle) return;
  toggle.addEventListener("change", () => {
    for (const input of root.querySelectorAll('input[type="password"], input[data-was-password]')) {
      input.dataset.wasPassword = "1";
      input.type = toggle.checked ? "text" : "password";
    }
  });
}
