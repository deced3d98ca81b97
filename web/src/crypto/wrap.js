// Mirrors wallet/crypto/wrap.py: HPKE (RFC 9180) base mode, DHKEM(X25519, HKDF-SHA256),
// HKDF-SHA256, AES-256-GCM. A wrap is enc || ciphertext (single-shot, empty AAD); `info` binds
// what is wrapped and for whom. @hpke/core does the HPKE with WebCrypto.
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { infoBytes, LABELS } from "../protocol.js";
import { concat, hex, sha256, utf8 } from "./encoding.js";

const ENC_BYTES = 32;
let suite = null;

function getSuite() {
  suite ??= new CipherSuite({
    kem: new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Aes256Gcm(),
  });
  return suite;
}

export class UnwrapError extends Error {}

/** Short stable name for a public key; appears in wrap info strings and on the server. */
export async function keyId(publicKey) {
  return hex(await sha256(concat(utf8(LABELS.KEY_ID), publicKey))).slice(0, 32);
}

export const documentKeyInfo = (documentId, version, recipientKeyId) =>
  infoBytes(LABELS.DOCUMENT_KEY, documentId, version, recipientKeyId);

export const profileFieldInfo = (slot, recipientKeyId) =>
  infoBytes(LABELS.PROFILE_FIELD_KEY, slot, recipientKeyId);

export async function seal(recipientPublicKey, plaintext, info) {
  const s = getSuite();
  const recipientKey = await s.kem.importKey("raw", recipientPublicKey.slice().buffer, true);
  const { ct, enc } = await s.seal({ recipientPublicKey: recipientKey, info }, plaintext);
  return concat(new Uint8Array(enc), new Uint8Array(ct));
}

/** privateKey: an X25519 CryptoKey (see keys.js) or 32 raw bytes. */
export async function openSealed(privateKey, wrapped, info) {
  const s = getSuite();
  try {
    const recipientKey =
      privateKey instanceof Uint8Array
        ? await s.kem.importKey("raw", privateKey.slice().buffer, false)
        : privateKey;
    const plain = await s.open(
      { recipientKey, enc: wrapped.slice(0, ENC_BYTES), info },
      wrapped.slice(ENC_BYTES),
    );
    return new Uint8Array(plain);
  } catch (error) {
    throw new UnwrapError("this key was not wrapped for you, or it was changed", { cause: error });
  }
}

export async function importPrivateKey(raw) {
  return getSuite().kem.importKey("raw", raw.slice().buffer, false);
}
