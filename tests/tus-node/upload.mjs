// Test-only: one upload with the stock tus-js-client in Node, as a user of tus would run it.
// Run by tests/test_tus_conformance.py: node upload.mjs MODE ENDPOINT FILE (token in TUS_TOKEN).
// MODE: whole | resume (abort after the first chunk, then resume from the upload URL) |
//       parallel (parallelUploads: 3) | terminate (abort(true) after the first chunk).
// Prints one JSON line: { url, chunks, resumedAt }.
import { readFileSync } from "node:fs";
import * as tus from "tus-js-client";

const [mode, endpoint, file] = process.argv.slice(2);
const data = readFileSync(file);
const headers = { Authorization: `Bearer ${process.env.TUS_TOKEN}` };
const chunkSize = Number(process.env.TUS_CHUNK_BYTES || 1024 * 1024);

function run(options) {
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(data, {
      endpoint,
      headers,
      chunkSize,
      retryDelays: [0, 500, 1000, 2000, 5000, 5000, 5000],
      ...options,
      onError: reject,
      onSuccess: () => resolve(upload),
    });
    options.start?.(upload, resolve, reject);
    upload.start();
  });
}

async function main() {
  let chunks = 0;
  let resumedAt = null;
  if (mode === "whole") {
    const upload = await run({ onChunkComplete: () => (chunks += 1) });
    return { url: upload.url, chunks };
  }
  if (mode === "parallel") {
    const upload = await run({ parallelUploads: 3, chunkSize: Infinity });
    return { url: upload.url, chunks };
  }
  if (mode === "resume" || mode === "terminate") {
    // Stopped after the first chunk, as a closed laptop or a dropped network would stop it.
    const first = await new Promise((resolve, reject) => {
      const upload = new tus.Upload(data, {
        endpoint,
        headers,
        chunkSize,
        onError: reject,
        onSuccess: () => reject(new Error("finished before it could be interrupted")),
        onChunkComplete: () => {
          upload.abort(mode === "terminate").then(() => resolve(upload), reject);
        },
      });
      upload.start();
    });
    if (mode === "terminate") return { url: first.url, chunks: 1 };
    const upload = await run({
      uploadUrl: first.url,
      onProgress: (sent) => {
        if (resumedAt === null) resumedAt = sent;
      },
      onChunkComplete: () => (chunks += 1),
    });
    return { url: upload.url, chunks, resumedAt, firstUrl: first.url };
  }
  throw new Error(`unknown mode ${mode}`);
}

main().then(
  (result) => console.log(JSON.stringify(result)),
  (error) => {
    console.error(String(error?.stack || error));
    process.exit(1);
  },
);
