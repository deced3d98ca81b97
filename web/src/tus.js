// Resumable transfers (like wallet/client/transfer.py): tus 1.0 uploads from a Blob and ranged
// downloads, both surviving a dropped connection. While the browser is offline they wait for
// the network instead of counting retries; the progress callback says so.
import { ApiError, NetworkError, request } from "./api.js";

// Small enough that the progress bar moves on a slow phone network and a drop loses little;
// 8 MiB (the CLI's size) is about 20% faster on a fast link (benchmarks/web_upload.py).
export const CHUNK_BYTES = 2 * 1024 * 1024;
const RETRIES = 8;
const TUS = { "Tus-Resumable": "1.0.0" };

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason ?? new DOMException("aborted", "AbortError"));
    });
  });
}

/** Waits until the browser says it is online again (or a short pause when it thinks it is). */
async function waitForNetwork(attempt, signal) {
  if (!navigator.onLine) {
    await new Promise((resolve, reject) => {
      const done = () => {
        window.removeEventListener("online", done);
        resolve();
      };
      window.addEventListener("online", done);
      signal?.addEventListener("abort", () => reject(signal.reason));
    });
    return;
  }
  await sleep(Math.min(250 * 2 ** attempt, 10_000), signal);
}

// 423: another PATCH holds the upload (one cut off by a crash holds it until its lease ends).
const retryable = (error) =>
  error instanceof NetworkError ||
  (error instanceof ApiError && [409, 423, 502, 503, 504].includes(error.status));

// Files at least this big go up in PARTS parallel parts (tus concatenation): one request at a
// time leaves a fast link idle while each chunk's answer comes back (benchmarks/web_upload.py).
export const PARALLEL_MIN_BYTES = 8 * 1024 * 1024;
export const PARTS = 3;

async function serverOffset(location, fallback, signal) {
  try {
    const response = await request("HEAD", location, { headers: TUS, signal });
    return Number(response.headers.get("upload-offset"));
  } catch (error) {
    if (error?.name === "AbortError") throw error;
    return fallback;
  }
}

/** Retries `attempt()` as PATCHes are retried: network drops, 502-504, and 423 (busy). */
async function withRetries(attempt, { signal, onWait } = {}) {
  for (let tries = 0; ; ) {
    try {
      return await attempt();
    } catch (error) {
      if (error?.name === "AbortError" || !retryable(error) || error.status === 409) throw error;
      if (navigator.onLine && tries >= RETRIES) throw error;
      onWait?.();
      await waitForNetwork(tries, signal);
      tries += navigator.onLine ? 1 : 0;
    }
  }
}

async function createUpload(headers, signal, onWait) {
  const created = await withRetries(
    () => request("POST", "/uploads", { headers: { ...TUS, ...headers }, signal }),
    { signal, onWait },
  );
  return created.headers.get("location");
}

/**
 * Sends bytes [start, end) of `blob` (the upload's bytes from its first) to the upload at
 * `location` in chunks, resuming after drops from wherever the server says it is.
 */
async function sendChunks(location, blob, { chunkBytes, onSent, onWait, signal, start = 0, end: last = blob.size }) {
  const total = last;
  let offset = start;
  let attempt = 0;
  while (offset < total) {
    const end = Math.min(offset + chunkBytes, total);
    try {
      const response = await request("PATCH", location, {
        body: blob.slice(offset, end),
        headers: {
          ...TUS,
          "Upload-Offset": String(offset),
          "Content-Type": "application/offset+octet-stream",
        },
        signal,
      });
      offset = Number(response.headers.get("upload-offset"));
      attempt = 0;
      onSent(offset);
    } catch (error) {
      if (error?.name === "AbortError" || !retryable(error)) throw error;
      if (navigator.onLine && attempt >= RETRIES) throw error;
      onWait();
      await waitForNetwork(attempt, signal);
      attempt += navigator.onLine ? 1 : 0;
      offset = await serverOffset(location, offset, signal);
      onSent(offset);
    }
  }
}

/** How many parallel parts: PARTS for a big file, else 1 (a benchmark may set its own). */
export function partsFor(size) {
  const forced = Number(globalThis.localStorage?.getItem("wallet.upload_parts"));
  if (Number.isInteger(forced) && forced >= 1 && forced <= 16) return Math.min(forced, size);
  return size >= PARALLEL_MIN_BYTES ? PARTS : 1;
}

/**
 * Uploads `blob` (already ciphertext: its signed hash covers all of it, whatever the parts).
 * A big file goes in parallel parts (tus partial uploads) that the server joins in order
 * (a final upload). onProgress(sent, total, { waiting }) after every chunk and while waiting
 * for the network. Returns the id of the upload to store.
 */
export async function uploadBlob(blob, { chunkBytes = CHUNK_BYTES, onProgress, signal } = {}) {
  const total = blob.size;
  const parts = partsFor(total);
  const sent = new Array(parts).fill(0);
  const report = (waiting) => onProgress?.(sent.reduce((a, b) => a + b, 0), total, { waiting });
  const onWait = () => report(true);
  report(false);
  let location;
  if (parts === 1) {
    location = await createUpload({ "Upload-Length": String(total) }, signal, onWait);
    await sendChunks(location, blob, {
      chunkBytes,
      signal,
      onWait,
      onSent: (offset) => {
        sent[0] = offset;
        report(false);
      },
    });
  } else {
    const size = Math.ceil(total / parts);
    const slices = Array.from({ length: parts }, (_, i) =>
      blob.slice(i * size, Math.min((i + 1) * size, total)),
    );
    const locations = await Promise.all(
      slices.map(async (slice, i) => {
        const part = await createUpload(
          { "Upload-Length": String(slice.size), "Upload-Concat": "partial" },
          signal,
          onWait,
        );
        await sendChunks(part, slice, {
          chunkBytes,
          signal,
          onWait,
          onSent: (offset) => {
            sent[i] = offset;
            report(false);
          },
        });
        return part;
      }),
    );
    // The server joins the parts in this order, so the signed hash of the whole holds.
    location = await createUpload({ "Upload-Concat": `final;${locations.join(" ")}` }, signal, onWait);
  }
  return location.replace(/\/+$/, "").split("/").pop();
}

/**
 * An upload fed while its bytes are still being made (encrypted): each part of them goes up as
 * a tus partial upload, up to `parallel` at once, while the next part is made; `finish()` joins
 * them in order (a final upload) and returns its id. `sizeHint` (about the total) sets the part
 * size so a big file needs no more than 12 parts. onProgress(sent, made, { waiting }).
 */
export function partsUploader({ sizeHint, parallel = PARTS, chunkBytes = CHUNK_BYTES, onProgress, signal }) {
  const partBytes = Math.max(PARALLEL_MIN_BYTES, Math.ceil(sizeHint / 12));
  let pending = [];
  let pendingSize = 0;
  let made = 0;
  let failure = null;
  const parts = [];
  const inFlight = new Set();
  const sent = [];
  const report = (waiting) => onProgress?.(sent.reduce((a, b) => a + b, 0), made, { waiting });
  const onWait = () => report(true);

  async function startPart() {
    // Kept until the final upload exists, so a part cut off on the way can be sent again.
    const blob = new Blob(pending, { type: "application/octet-stream" });
    pending = [];
    pendingSize = 0;
    const index = sent.push(0) - 1;
    const part = (async () => {
      const headers = { "Upload-Length": String(blob.size), "Upload-Concat": "partial" };
      const location = await createUpload(headers, signal, onWait);
      await sendChunks(location, blob, {
        chunkBytes,
        signal,
        onWait,
        onSent: (offset) => {
          sent[index] = offset;
          report(false);
        },
      });
      return location;
    })();
    part.catch((error) => (failure ??= error));
    parts.push(part);
    inFlight.add(part);
    part.finally(() => inFlight.delete(part)).catch(() => {});
    while (inFlight.size >= parallel && !failure) await Promise.race(inFlight).catch(() => {});
    if (failure) throw failure;
  }

  return {
    async push(chunk) {
      if (failure) throw failure;
      pending.push(chunk);
      pendingSize += chunk.length;
      made += chunk.length;
      if (pendingSize >= partBytes) await startPart();
    },
    async finish() {
      if (pendingSize || !parts.length) await startPart();
      const locations = await Promise.all(parts);
      // The server joins the parts in this order, so the signed hash of the whole holds.
      const final = await createUpload({ "Upload-Concat": `final;${locations.join(" ")}` }, signal, onWait);
      return final.replace(/\/+$/, "").split("/").pop();
    },
  };
}

/**
 * One upload of `total` bytes (known in advance) fed while its bytes are still being made
 * (encrypted): each chunk goes up as soon as it is complete, while the next one is made. One
 * PATCH at a time (tus appends in order); `push` waits for the PATCH before, which holds the
 * maker back by one chunk. Every byte is kept until the upload is done, so a resume from any
 * offset the server names can be served. onProgress(sent, total, { waiting }).
 */
export function streamUploader({ total, chunkBytes = CHUNK_BYTES, onProgress, signal }) {
  let pending = [];
  const segments = []; // one Blob per send: joined by reference, never copied again
  let made = 0;
  let queued = 0;
  let sent = 0;
  let failure = null;
  const report = (waiting) => onProgress?.(sent, total, { waiting });
  const onWait = () => report(true);
  const created = createUpload({ "Upload-Length": String(total) }, signal, onWait);
  let sending = created;
  sending.catch((error) => (failure ??= error));

  function send() {
    const start = queued;
    const end = made;
    queued = made;
    segments.push(new Blob(pending));
    pending = [];
    const blob = new Blob(segments, { type: "application/octet-stream" });
    sending = sending.then(async () => {
      const location = await created;
      await sendChunks(location, blob, {
        chunkBytes,
        signal,
        onWait,
        start,
        end,
        onSent: (offset) => {
          sent = offset;
          report(false);
        },
      });
    });
    sending.catch((error) => (failure ??= error));
  }

  report(false);
  return {
    async push(chunk) {
      if (failure) throw failure;
      pending.push(chunk);
      made += chunk.length;
      if (made > total) throw new Error(`more than the ${total} bytes announced`);
      if (made - queued >= chunkBytes) {
        await sending.catch(() => {});
        if (failure) throw failure;
        send();
      }
    },
    async finish() {
      if (made !== total) throw new Error(`${made} of the ${total} bytes announced were made`);
      if (queued < made) send();
      await sending;
      return (await created).replace(/\/+$/, "").split("/").pop();
    },
  };
}

export class WrongSize extends Error {}

/**
 * Downloads a blob at most `size` bytes long (the owner-signed size), resuming with Range after
 * a drop. Returns { chunks, digest } where digest is the SHA-256 hex of what arrived.
 */
export async function downloadBlob(path, size, { onProgress, signal } = {}) {
  const { createSHA256 } = await import("./crypto/wasm.js");
  const hasher = await createSHA256();
  hasher.init();
  const chunks = [];
  let received = 0;
  let attempt = 0;
  while (received < size) {
    const before = received;
    try {
      const headers = received ? { Range: `bytes=${received}-` } : {};
      const response = await request("GET", path, { headers, signal });
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (received + value.length > size) {
          await reader.cancel();
          throw new WrongSize("more than the signed size");
        }
        chunks.push(value);
        hasher.update(value);
        received += value.length;
        onProgress?.(received, size, { waiting: false });
      }
      attempt = 0;
    } catch (error) {
      if (error instanceof WrongSize || error?.name === "AbortError") throw error;
      const network = error instanceof NetworkError || error instanceof TypeError;
      if (!network && !(error instanceof ApiError && [502, 503, 504].includes(error.status))) {
        throw error;
      }
      if (navigator.onLine && attempt >= RETRIES) throw error;
      onProgress?.(received, size, { waiting: true });
      await waitForNetwork(attempt, signal);
      attempt += 1;
      continue;
    }
    if (received === before && ++attempt > RETRIES) throw new NetworkError("stopped early");
  }
  return { chunks, digest: hasher.digest("hex") };
}
