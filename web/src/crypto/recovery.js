// Mirrors wallet/crypto/recovery.py: 256 random bits plus a 24-bit check, shown once as base32
// groups "WR1-XXXX-...". The check catches a mistyped letter before the server sees a try.
import { base32 } from "@scure/base";
import { concat, equalBytes, randomBytes, sha256, utf8 } from "./encoding.js";
import { LABELS } from "../protocol.js";

export const RECOVERY_KEY_BYTES = 32;
const CHECK_BYTES = 3;
const LETTERS = ((RECOVERY_KEY_BYTES + CHECK_BYTES) * 8) / 5; // 56
const PREFIX = "WR1";
const LOOKALIKES = { 0: "O", 1: "I", 8: "B" };

export class RecoveryKeyError extends Error {
  constructor(code) {
    super(code);
    this.code = code; // "length" or "typing"; the page says it in the reader's language
  }
}

export function newRecoveryKey() {
  return randomBytes(RECOVERY_KEY_BYTES);
}

async function check(key) {
  return (await sha256(concat(utf8(LABELS.RECOVERY_CHECK), key))).slice(0, CHECK_BYTES);
}

export async function formatRecoveryKey(key) {
  const letters = base32.encode(concat(key, await check(key)));
  const groups = letters.match(/.{1,4}/g);
  return [PREFIX, ...groups].join("-");
}

const unlookalike = (text) => text.replace(/[018]/g, (c) => LOOKALIKES[c]);

export async function parseRecoveryKey(text) {
  let cleaned = unlookalike(
    Array.from(text.toUpperCase())
      .filter((c) => /[\p{L}\p{N}]/u.test(c))
      .join(""),
  );
  const prefix = unlookalike(PREFIX);
  if (cleaned.startsWith(prefix)) cleaned = cleaned.slice(prefix.length);
  if (cleaned.length !== LETTERS) throw new RecoveryKeyError("length");
  let raw;
  try {
    raw = base32.decode(cleaned);
  } catch {
    throw new RecoveryKeyError("typing");
  }
  const key = raw.slice(0, RECOVERY_KEY_BYTES);
  if (!equalBytes(raw.slice(RECOVERY_KEY_BYTES), await check(key))) {
    throw new RecoveryKeyError("typing");
  }
  return key;
}
