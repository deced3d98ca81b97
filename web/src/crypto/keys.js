// Mirrors wallet/crypto/keys.py: an account's private keys (X25519 for HPKE, an Ed25519 seed
// for signing, the vault secret that names profile slots) locked with AES-256-GCM under the
// key-encryption key: nonce(12) || ciphertext, AAD LABELS.PRIVATE_KEYS.
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { b64d, b64e, concat, fromUtf8, hex, randomBytes, utf8 } from "./encoding.js";
import { importPrivateKey, keyId } from "./wrap.js";
import { infoBytes, LABELS } from "../protocol.js";

const KEY_BUNDLE_AAD = utf8(LABELS.PRIVATE_KEYS);
const NONCE_BYTES = 12;

export class WrongKey extends Error {}

async function aesKey(raw, usage) {
  return crypto.subtle.importKey("raw", raw, "AES-GCM", false, [usage]);
}

export class AccountKeys {
  constructor(x25519Secret, ed25519Seed, vaultSecret) {
    if (x25519Secret.length !== 32 || ed25519Seed.length !== 32 || vaultSecret.length !== 32) {
      throw new WrongKey("a private key has the wrong size");
    }
    this.x25519Secret = x25519Secret;
    this.signingSeed = ed25519Seed;
    this.vaultSecret = vaultSecret;
    this.publicEncryptionKey = x25519.getPublicKey(x25519Secret);
    this.publicSigningKey = ed25519.getPublicKey(ed25519Seed);
    this._cryptoKey = null;
    this._keyId = null;
  }

  static generate() {
    return new AccountKeys(randomBytes(32), randomBytes(32), randomBytes(32));
  }

  async keyId() {
    this._keyId ??= await keyId(this.publicEncryptionKey);
    return this._keyId;
  }

  /** The X25519 private key as a non-extractable WebCrypto key, for HPKE opens. */
  async encryptionKey() {
    this._cryptoKey ??= await importPrivateKey(this.x25519Secret);
    return this._cryptoKey;
  }

  async profileSlot(fieldName) {
    const key = await crypto.subtle.importKey(
      "raw",
      this.vaultSecret,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const mac = await crypto.subtle.sign("HMAC", key, infoBytes(LABELS.PROFILE_SLOT, fieldName));
    return hex(new Uint8Array(mac)).slice(0, 32);
  }

  toBytes() {
    return utf8(
      JSON.stringify({
        v: 1,
        x25519: b64e(this.x25519Secret),
        ed25519_seed: b64e(this.signingSeed),
        vault_secret: b64e(this.vaultSecret),
      }),
    );
  }

  static fromBytes(data) {
    const bundle = JSON.parse(fromUtf8(data));
    return new AccountKeys(
      b64d(bundle.x25519),
      b64d(bundle.ed25519_seed),
      b64d(bundle.vault_secret),
    );
  }

  async lock(keyEncryptionKey) {
    const nonce = randomBytes(NONCE_BYTES);
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData: KEY_BUNDLE_AAD },
      await aesKey(keyEncryptionKey, "encrypt"),
      this.toBytes(),
    );
    return concat(nonce, new Uint8Array(sealed));
  }

  static async unlock(keyEncryptionKey, locked) {
    let plain;
    try {
      plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: locked.slice(0, NONCE_BYTES), additionalData: KEY_BUNDLE_AAD },
        await aesKey(keyEncryptionKey, "decrypt"),
        locked.slice(NONCE_BYTES),
      );
    } catch (error) {
      throw new WrongKey("wrong passphrase or recovery key", { cause: error });
    }
    return AccountKeys.fromBytes(new Uint8Array(plain));
  }

  /** Overwrites the secrets in memory (logout, idle timeout). */
  wipe() {
    this.x25519Secret.fill(0);
    this.signingSeed.fill(0);
    this.vaultSecret.fill(0);
    this._cryptoKey = null;
  }
}
