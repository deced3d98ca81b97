// The encryption worker: age-encrypts a File off the page's thread, so the page stays
// responsive and the upload of one chunk overlaps the encryption of the next. A same-origin
// module file (the page's CSP allows workers from 'self' only). Driven by crypto/encrypt-job.js.
//   page -> worker: { type: "start", file, recipient } then { type: "ack", bytes } per chunk taken
//   worker -> page: { type: "size", size }, { type: "chunk", data } (transferred),
//                   { type: "done", sha256, size } or { type: "error", message }
import { startEncryption } from "../crypto/encrypt-stream.js";

// At most this much ciphertext waits for the page to take it.
const AHEAD_BYTES = 16 * 1024 * 1024;
let outstanding = 0;
let resume = null;

self.onmessage = async (event) => {
  const message = event.data;
  if (message.type === "ack") {
    outstanding -= message.bytes;
    if (resume && outstanding < AHEAD_BYTES) {
      resume();
      resume = null;
    }
    return;
  }
  if (message.type !== "start") return;
  try {
    const job = await startEncryption(message.file, message.recipient);
    self.postMessage({ type: "size", size: job.size });
    for await (const chunk of job.chunks) {
      outstanding += chunk.byteLength;
      self.postMessage({ type: "chunk", data: chunk }, [chunk.buffer]);
      if (outstanding >= AHEAD_BYTES) await new Promise((done) => (resume = done));
    }
    self.postMessage({ type: "done", sha256: job.digest(), size: job.size });
  } catch (error) {
    self.postMessage({ type: "error", message: String(error?.message || error) });
  }
};
