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

const retryable = (error) =>
  error instanceof NetworkError ||
  (error instanceof ApiError && [409, 502, 503, 504].includes(error.status));

async function serverOffset(location, fallback, signal) {
  try {
    const response = await request("HEAD", location, { headers: TUS, signal });
    return Number(response.headers.get("upload-offset"));
  } catch (error) {
    if (error?.name === "AbortError") throw error;
    return fallback;
  }
}

/**
 * Uploads `blob` (already ciphertext). onProgress(sent, total, { waiting }) after every chunk
 * and while waiting for the network. Returns the upload id.
 */
export async function uploadBlob(blob, { chunkBytes = CHUNK_BYTES, onProgress, signal } = {}) {
  const total = blob.size;
  const created = await request("POST", "/uploads", {
    headers: { ...TUS, "Upload-Length": String(total) },
    signal,
  });
  const location = created.headers.get("location");
  const uploadId = location.replace(/\/+$/, "").split("/").pop();
  let offset = 0;
  let attempt = 0;
  onProgress?.(0, total, { waiting: false });
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
      onProgress?.(offset, total, { waiting: false });
    } catch (error) {
      if (error?.name === "AbortError" || !retryable(error)) throw error;
      if (navigator.onLine && attempt >= RETRIES) throw error;
      onProgress?.(offset, total, { waiting: true });
      await waitForNetwork(attempt, signal);
      attempt += navigator.onLine ? 1 : 0;
      offset = await serverOffset(location, offset, signal);
    }
  }
  return uploadId;
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
