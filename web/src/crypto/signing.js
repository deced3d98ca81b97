// Mirrors wallet/crypto/signing.py: Ed25519 over canonical JSON (@noble/curves, which age
// already ships, so it costs no extra bytes and works on browsers without WebCrypto Ed25519).
import { ed25519 } from "@noble/curves/ed25519.js";
import { canonicalJson } from "./encoding.js";

export class BadSignature extends Error {}

export function publicKeyOf(seed) {
  return ed25519.getPublicKey(seed);
}

/** Returns [message, signature] like sign() in Python. */
export function sign(seed, value) {
  const message = canonicalJson(value);
  return [message, ed25519.sign(message, seed)];
}

export function signBytes(seed, message) {
  return ed25519.sign(message, seed);
}

export function verify(publicKey, message, signature) {
  let ok = false;
  try {
    ok = ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    ok = false;
  }
  if (!ok) throw new BadSignature("signature does not match");
}
