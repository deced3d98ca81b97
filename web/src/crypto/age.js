// Mirrors wallet/crypto/age.py: documents are standard age v1 files for a fresh X25519
// identity (the document key). The age-encryption package (typage) is heavy (it carries
// post-quantum code), so pages import this module lazily: `await import("../crypto/age.js")`.
import {
  Decrypter,
  Encrypter,
  generateX25519Identity,
  identityToRecipient,
} from "age-encryption";

export class IntegrityError extends Error {}

export async function newIdentity() {
  return generateX25519Identity();
}

export function parseIdentity(text) {
  if (typeof text !== "string" || !text.startsWith("AGE-SECRET-KEY-1")) {
    throw new IntegrityError("only age X25519 identities are supported");
  }
  return text;
}

export async function recipientOf(identity) {
  return identityToRecipient(identity);
}

export async function encryptBytes(data, recipient) {
  const encrypter = new Encrypter();
  encrypter.addRecipient(recipient);
  return encrypter.encrypt(data);
}

/** Returns a ReadableStream of ciphertext with .size(plainSize) -> ciphertext size. */
export async function encryptStream(source, recipient) {
  const encrypter = new Encrypter();
  encrypter.addRecipient(recipient);
  return encrypter.encrypt(source);
}

export async function decryptBytes(data, identity) {
  const decrypter = new Decrypter();
  decrypter.addIdentity(parseIdentity(identity));
  try {
    return await decrypter.decrypt(data);
  } catch (error) {
    throw new IntegrityError("this file is damaged or was changed", { cause: error });
  }
}

/** Decrypts a stream; errors surface while reading the returned stream. */
export async function decryptStream(source, identity) {
  const decrypter = new Decrypter();
  decrypter.addIdentity(parseIdentity(identity));
  try {
    return await decrypter.decrypt(source);
  } catch (error) {
    throw new IntegrityError("this file is damaged or was changed", { cause: error });
  }
}
