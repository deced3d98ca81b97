// The link page's service worker (web/src/pages/link.js, streamItem in links.js): saves a
// shared file as it downloads, without holding it in the page's memory.
//
// The page hands a job over a MessageChannel (the download path and token, the blob's size and
// SHA-256, the age identity, the file name), then opens <scope>/<job id> in a hidden frame. The
// answer here is the download: ciphertext from the server -> SHA-256 and age decryption (STREAM:
// every 64 KiB chunk is authenticated, and so is the end) -> the browser's download, as it comes.
//
// Nothing unchecked is saved as a whole file: the last plaintext chunk is held back until the
// whole ciphertext matched the SHA-256 the owner signed and age accepted the final chunk. Any
// failure errors the stream, so the browser marks the download as failed (Chromium keeps no
// file under the document's name), and the page says the file is damaged.
import { decryptStream } from "./crypto/age.js";
import { createSHA256 } from "./crypto/wasm.js";

const jobs = new Map();
const ATTEMPTS = 4;

class Damaged extends Error {}

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("message", (event) => {
  const { type, id, job } = event.data || {};
  const [port] = event.ports;
  if (type !== "save" || !port || typeof id !== "string") return;
  jobs.set(id, { ...job, port });
  // Unclaimed after a minute (the frame never loaded): forget the token and the key.
  setTimeout(() => jobs.delete(id), 60_000);
  port.postMessage({ type: "ready" });
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const scope = new URL(self.registration.scope);
  if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return;
  const id = url.pathname.slice(scope.pathname.length);
  const job = jobs.get(id);
  jobs.delete(id); // one download per job
  if (!job) {
    event.respondWith(new Response("This download has ended. Open the link page again.", { status: 404 }));
    return;
  }
  event.respondWith(answer(job));
});

function contentDisposition(name) {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** The ciphertext as a stream, resumed with Range after a dropped connection, hash-checked. */
function ciphertext(job, hasher) {
  const { path, token, size, sha256, port } = job;
  let received = 0;
  let attempts = 0;
  let reader = null;
  let reported = 0;
  return new ReadableStream({
    async pull(controller) {
      for (;;) {
        if (!reader) {
          if (received >= size) {
            if (hasher.digest("hex") !== sha256) throw new Damaged("the SHA-256 does not match");
            controller.close();
            return;
          }
          if (attempts++ >= ATTEMPTS) throw new Error("network");
          const headers = { Authorization: `Bearer ${token}` };
          if (received) headers.Range = `bytes=${received}-`;
          let response;
          try {
            response = await fetch(path, { headers, cache: "no-store", credentials: "omit" });
          } catch {
            continue;
          }
          if (response.status === 503) continue;
          if (!response.ok) {
            const error = new Error(`status ${response.status}`);
            error.status = response.status;
            throw error;
          }
          reader = response.body.getReader();
        }
        let chunk;
        try {
          chunk = await reader.read();
        } catch {
          reader = null; // a dropped connection: resume with Range
          continue;
        }
        if (chunk.done) {
          reader = null;
          continue;
        }
        if (received + chunk.value.length > size) throw new Damaged("longer than signed");
        hasher.update(chunk.value);
        received += chunk.value.length;
        if (received - reported >= 1_000_000 || received === size) {
          reported = received;
          port.postMessage({ type: "progress", done: received, total: size });
        }
        controller.enqueue(chunk.value);
        return;
      }
    },
  });
}

/** Passes plaintext on one chunk late: the last one only once everything before it checked. */
function holdBackLast() {
  let held = null;
  return new TransformStream({
    transform(chunk, controller) {
      if (held) controller.enqueue(held);
      held = chunk;
    },
    flush(controller) {
      if (held) controller.enqueue(held);
    },
  });
}

async function answer(job) {
  const { port, identity, name } = job;
  const hasher = await createSHA256();
  hasher.init();
  let plain;
  try {
    plain = await decryptStream(ciphertext(job, hasher), identity);
  } catch (error) {
    port.postMessage({ type: "failed", damaged: true, message: String(error?.message || error) });
    return new Response("This file is damaged or was changed.", { status: 500 });
  }
  const reader = plain.pipeThrough(holdBackLast()).getReader();
  // Pulled by the browser's download (backpressure); the page learns the end from here.
  const toBrowser = new ReadableStream({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          port.postMessage({ type: "done" });
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        port.postMessage({
          type: "failed",
          damaged: !(error?.status || error?.message === "network"),
          status: error?.status,
          message: String(error?.message || error),
        });
        controller.error(error);
      }
    },
    cancel(reason) {
      reader.cancel(reason).catch(() => undefined);
      port.postMessage({ type: "failed", damaged: false, cancelled: true });
    },
  });
  return new Response(toBrowser, {
    headers: {
      "Content-Type": "application/octet-stream",
      "Content-Disposition": contentDisposition(name),
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    },
  });
}
