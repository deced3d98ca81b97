// Encrypts a File as a standard age file, chunk by chunk, hashing the ciphertext as it goes.
// Runs in the encryption worker (workers/encrypt.js) and, where workers are missing, in the page
// (crypto/encrypt-job.js). The ciphertext size is known before the first byte: tus needs it.
import { encryptStream } from "./age.js";
import { createSHA256 } from "./wasm.js";

// Ciphertext is handed on in pieces of about this size (age's own chunks are 64 KiB).
export const BATCH_BYTES = 1024 * 1024;

function joined(pieces, size) {
  if (pieces.length === 1 && pieces[0].byteOffset === 0 && pieces[0].byteLength === pieces[0].buffer.byteLength) {
    return pieces[0];
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

/** { size, chunks (async iterator of Uint8Array, each its own buffer), digest() -> hex }. */
export async function startEncryption(file, recipient) {
  const stream = await encryptStream(file.stream(), recipient);
  const size = stream.size(file.size);
  const hasher = await createSHA256();
  hasher.init();
  const reader = stream.getReader();
  let made = 0;
  async function* chunks() {
    let pieces = [];
    let pending = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      hasher.update(value);
      made += value.length;
      pieces.push(value);
      pending += value.length;
      if (pending >= BATCH_BYTES) {
        yield joined(pieces, pending);
        pieces = [];
        pending = 0;
      }
    }
    if (pending) yield joined(pieces, pending);
    if (made !== size) throw new Error(`age wrote ${made} bytes, ${size} expected`);
  }
  return { size, chunks: chunks(), digest: () => hasher.digest("hex") };
}
