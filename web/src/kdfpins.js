// The passphrase protection each wallet name had the last time this browser used it (like
// wallet/client/kdfpins.py). A hostile server could answer prelogin with a cheaper Argon2id
// cost, or give every account one salt, and then attack the auth keys browsers send with one
// dictionary pass. So the page remembers each name's salt and cost and refuses, before it
// derives or sends anything: a cost below the one seen before (or below the floor), a salt
// another name on this device has, and another salt than before unless the person says they
// changed their passphrase on another device.
//
// The page works before login, so the pins cannot be locked under the account's key. They hold
// no name in clear: each entry is keyed by SHA-256 of the wallet name and keeps a SHA-256 of
// the salt and the cost, in localStorage. On a public kiosk they live in this tab's memory only
// and go with the session.
import { concat, sha256Hex, utf8 } from "./crypto/encoding.js";
import { checkKdfCost } from "./crypto/kdf.js";
import { infoBytes, LABELS } from "./protocol.js";
import { isKiosk, onWipe } from "./kiosk.js";
import { hasLeft } from "./leaving.js";
import { PlainError } from "./ui.js";

export const STORAGE_KEY = "wallet-kdf-pins";

/** reason: "weaker" (below what this device saw), "shared" (another name's salt) or
 * "changed" (another salt than before); its message is errors.kdf_<reason>. WeakKdf
 * (crypto/kdf.js) is the floor. */
export class KdfRefused extends PlainError {
  constructor(reason) {
    super(`errors.kdf_${reason}`);
    this.reason = reason;
  }
}

const memory = new Map();
onWipe(() => memory.clear());

function usesMemory() {
  if (isKiosk()) return true;
  try {
    return !globalThis.localStorage;
  } catch {
    return true; // storage blocked by the browser's settings
  }
}

function readAll() {
  if (usesMemory()) return Object.fromEntries(memory);
  try {
    const data = JSON.parse(localStorage.getItem(STORAGE_KEY) || "{}");
    return data && typeof data.pins === "object" && data.pins ? data.pins : {};
  } catch {
    return {};
  }
}

function writeAll(pins) {
  if (hasLeft()) return;
  if (usesMemory()) {
    memory.clear();
    for (const [key, value] of Object.entries(pins)) memory.set(key, value);
    return;
  }
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify({ v: 1, pins }));
  } catch {
    // storage full or blocked: the floor still protects, the pin is simply not kept
  }
}

async function handleKey(handle) {
  return sha256Hex(infoBytes(LABELS.KDF_PIN_HANDLE, handle.trim().toLowerCase()));
}

/** Same as salt_digest in wallet/client/kdfpins.py. */
export async function saltDigest(salt) {
  return sha256Hex(concat(utf8(LABELS.KDF_PIN_SALT), salt));
}

/** The cost this device saw for the name, or null. */
export async function pinnedCost(handle) {
  const pin = readAll()[await handleKey(handle)];
  return pin ? { opslimit: pin.opslimit, memlimit: pin.memlimit } : null;
}

/** Throws KdfRefused or WeakKdf unless the salt and cost are safe to derive an auth key with. */
export async function checkKdfPin(handle, salt, opslimit, memlimit, { newSaltOk = false } = {}) {
  const key = await handleKey(handle);
  const pins = readAll();
  const pinned = pins[key];
  if (pinned && !(opslimit >= pinned.opslimit && memlimit >= pinned.memlimit)) {
    throw new KdfRefused("weaker");
  }
  // The floor is for names this device never saw: a pinned name is held to its own pin, so an
  // account made when the default cost was lower still opens on the devices that know it.
  if (!pinned) checkKdfCost(opslimit, memlimit);
  const digest = await saltDigest(salt);
  for (const [other, pin] of Object.entries(pins)) {
    if (other !== key && pin.salt === digest) throw new KdfRefused("shared");
  }
  if (pinned && pinned.salt !== digest && !newSaltOk) throw new KdfRefused("changed");
}

/** Remembers what a login, a new wallet, a new passphrase or a recovery used. */
export async function pinKdf(handle, salt, opslimit, memlimit) {
  const key = await handleKey(handle);
  const pins = readAll();
  pins[key] = { salt: await saltDigest(salt), opslimit, memlimit };
  writeAll(pins);
}

export async function forgetKdfPin(handle) {
  const key = await handleKey(handle);
  const pins = readAll();
  delete pins[key];
  writeAll(pins);
}

/** A new passphrase never gets a lower cost than the one this device saw for the account. */
export async function strongestCost(handle, params) {
  const pinned = await pinnedCost(handle);
  return {
    opslimit: Math.max(params.opslimit, pinned?.opslimit ?? 0),
    memlimit: Math.max(params.memlimit, pinned?.memlimit ?? 0),
  };
}
