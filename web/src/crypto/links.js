// Mirrors wallet/crypto/links.py: keys of a share link https://HOST/s/<link_id>#<secret>.
// Everything derives from the fragment secret, which never reaches the server.
import { ed25519 } from "@noble/curves/ed25519.js";
import { concat, randomBytes, utf8 } from "./encoding.js";
import { hkdf } from "./kdf.js";
import { info, infoBytes, LABELS } from "../protocol.js";

export const SECRET_BYTES = 32;
const NONCE = 12;

export class LinkKeyError extends Error {}

export const newSecret = () => randomBytes(SECRET_BYTES);

/** The Ed25519 seed that answers the server's challenge. */
export const proofSeed = (secret, linkId) => hkdf(secret, info(LABELS.LINK_PROOF, linkId));

export const challengeMessage = (linkId, nonce) =>
  concat(infoBytes(LABELS.LINK_REDEEM, linkId, ""), nonce);

export async function proof(secret, linkId, nonce) {
  return ed25519.sign(challengeMessage(linkId, nonce), await proofSeed(secret, linkId));
}

export const pinCheck = (secret, linkId, pin) =>
  hkdf(concat(secret, utf8(pin)), info(LABELS.LINK_PIN, linkId));

export const previewKey = (secret, linkId) => hkdf(secret, info(LABELS.LINK_PREVIEW, linkId));

export const linkKey = (secret, serverShare, pin, linkId) =>
  hkdf(concat(secret, serverShare, utf8(pin || "")), info(LABELS.LINK_KEY, linkId));

async function aes(key, usage) {
  return crypto.subtle.importKey("raw", key, "AES-GCM", false, [usage]);
}

export async function seal(key, plaintext, linkId) {
  const nonce = randomBytes(NONCE);
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: nonce, additionalData: utf8(linkId) },
    await aes(key, "encrypt"),
    plaintext,
  );
  return concat(nonce, new Uint8Array(sealed));
}

export async function openSealed(key, sealed, linkId) {
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: sealed.slice(0, NONCE), additionalData: utf8(linkId) },
      await aes(key, "decrypt"),
      sealed.slice(NONCE),
    );
    return new Uint8Array(plain);
  } catch (error) {
    throw new LinkKeyError("this link cannot be opened with this secret", { cause: error });
  }
}
