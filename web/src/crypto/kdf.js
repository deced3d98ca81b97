// Mirrors wallet/crypto/kdf.py: passphrase -> master key (Argon2id, libsodium's crypto_pwhash
// parameters: parallelism 1, opslimit = iterations, memlimit bytes = KiB * 1024) -> auth key and
// key-encryption key (HKDF-SHA256, no salt). hash-wasm (WebAssembly) loads only when needed.
import { LABELS } from "../protocol.js";
import { utf8 } from "./encoding.js";

export const SALT_BYTES = 16;
export const KEY_BYTES = 32;
export const AUTH_KEY_INFO = LABELS.AUTH_KEY;
export const KEK_INFO = LABELS.KEY_ENCRYPTION_KEY;
export const RECOVERY_AUTH_INFO = LABELS.RECOVERY_AUTH_KEY;
export const RECOVERY_KEK_INFO = LABELS.RECOVERY_KEY_ENCRYPTION_KEY;

// The weakest cost this page accepts for a wallet name this device never saw (like the Python
// client's check_kdf_cost): the server's default cost for new accounts. Only a test server
// lowers it, through <meta name="wallet-kdf-floor"> (WALLET_WEB_KDF_FLOOR).
export const DEFAULT_KDF_FLOOR = [10, 128 * 1024 * 1024];

export class WeakKdf extends Error {}

export function kdfFloor() {
  const meta = globalThis.document?.querySelector('meta[name="wallet-kdf-floor"]');
  const parts = (meta?.content || "").split(",").map(Number);
  if (parts.length === 2 && parts.every((n) => Number.isSafeInteger(n) && n > 0)) return parts;
  return DEFAULT_KDF_FLOOR;
}

export function checkKdfCost(opslimit, memlimit) {
  const [ops, mem] = kdfFloor();
  if (!(opslimit >= ops && memlimit >= mem)) throw new WeakKdf("weak-kdf");
}

// The same words typed on a phone and a kiosk must give the same key.
export function normalisePassphrase(passphrase) {
  return utf8(passphrase.normalize("NFC"));
}

export async function deriveMasterKey(passphrase, salt, opslimit, memlimit) {
  if (memlimit % 1024 !== 0) throw new Error("memlimit must be whole KiB");
  const { argon2id } = await import("./wasm.js");
  return argon2id({
    password: normalisePassphrase(passphrase),
    salt,
    parallelism: 1,
    iterations: opslimit,
    memorySize: memlimit / 1024,
    hashLength: KEY_BYTES,
    outputType: "binary",
  });
}

export async function hkdf(secret, info) {
  const key = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    // An empty salt is HMAC's zero key, which is what Python's salt=None means.
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: utf8(info) },
    key,
    KEY_BYTES * 8,
  );
  return new Uint8Array(bits);
}

/** Returns [authKey, keyEncryptionKey]. Only the auth key ever leaves the browser. */
export async function splitMasterKey(masterKey) {
  return [await hkdf(masterKey, AUTH_KEY_INFO), await hkdf(masterKey, KEK_INFO)];
}

export async function splitRecoveryKey(recoveryKey) {
  return [await hkdf(recoveryKey, RECOVERY_AUTH_INFO), await hkdf(recoveryKey, RECOVERY_KEK_INFO)];
}

/** derive_credentials: refuses a weak cost before any work, like the Python client. */
export async function deriveCredentials(passphrase, salt, opslimit, memlimit) {
  checkKdfCost(opslimit, memlimit);
  const master = await deriveMasterKey(passphrase, salt, opslimit, memlimit);
  const [authKey, kek] = await splitMasterKey(master);
  master.fill(0);
  return { salt, opslimit, memlimit, authKey, kek };
}
