// Encrypts a File for upload as a stream of age ciphertext: in a Web Worker
// (workers/encrypt.js), so that encrypting the next chunk overlaps sending this one and the page
// stays responsive; in the page itself where a module worker cannot start.
// encryptJob(file, recipient, { signal }) -> { size, chunks, finished, stop }:
//   size      the ciphertext's exact size, known before the first byte (tus announces it);
//   chunks    an async iterator of Uint8Array, in order;
//   finished  a promise of { sha256, size } once the last chunk was taken;
//   stop()    ends the worker early (a failed upload).

// Bundled beside the pages (web/build.mjs); same origin, as the page's CSP requires.
export const WORKER_URL = "/static/js/workers/encrypt.js";

class WorkerUnavailable extends Error {}

function workerJob(file, recipient, signal) {
  const worker = new Worker(WORKER_URL, { type: "module", name: "encrypt" });
  const queue = [];
  let wake = null;
  let ended = false;
  let failure = null;
  let started = false;
  let sized;
  const size = new Promise((resolve, reject) => (sized = { resolve, reject }));
  let done;
  const finished = new Promise((resolve, reject) => (done = { resolve, reject }));
  finished.catch(() => {});
  const poke = () => {
    wake?.();
    wake = null;
  };
  const fail = (error) => {
    failure ??= error;
    worker.terminate();
    sized.reject(failure);
    done.reject(failure);
    poke();
  };
  worker.onmessage = ({ data }) => {
    if (data.type === "size") {
      started = true;
      sized.resolve(data.size);
    } else if (data.type === "chunk") {
      queue.push(new Uint8Array(data.data));
      poke();
    } else if (data.type === "done") {
      ended = true;
      worker.terminate();
      done.resolve({ sha256: data.sha256, size: data.size });
      poke();
    } else if (data.type === "error") {
      fail(new Error(data.message));
    }
  };
  // A worker that cannot load (an old browser, a blocked file) fails before its first answer.
  worker.onerror = (event) => {
    event.preventDefault?.();
    fail(started ? new Error(event.message || "encryption failed") : new WorkerUnavailable());
  };
  signal?.addEventListener("abort", () => fail(signal.reason ?? new DOMException("aborted", "AbortError")));
  worker.postMessage({ type: "start", file, recipient });

  async function* chunks() {
    for (;;) {
      if (queue.length) {
        const chunk = queue.shift();
        worker.postMessage({ type: "ack", bytes: chunk.byteLength });
        yield chunk;
      } else if (failure) {
        throw failure;
      } else if (ended) {
        return;
      } else {
        await new Promise((resolve) => (wake = resolve));
      }
    }
  }
  return size.then((bytes) => ({
    size: bytes,
    chunks: chunks(),
    finished,
    stop: () => fail(new DOMException("stopped", "AbortError")),
  }));
}

async function inlineJob(file, recipient) {
  const { startEncryption } = await import("./encrypt-stream.js");
  const job = await startEncryption(file, recipient);
  let resolve;
  const finished = new Promise((done) => (resolve = done));
  async function* chunks() {
    yield* job.chunks;
    resolve({ sha256: job.digest(), size: job.size });
  }
  return { size: job.size, chunks: chunks(), finished, stop: () => {} };
}

export async function encryptJob(file, recipient, { signal } = {}) {
  const inline = globalThis.localStorage?.getItem("wallet.encrypt_in_page") === "1";
  if (typeof Worker === "function" && !inline) {
    try {
      return await workerJob(file, recipient, signal);
    } catch (error) {
      if (!(error instanceof WorkerUnavailable)) throw error;
    }
  }
  return inlineJob(file, recipient);
}
