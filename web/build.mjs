// Bundles every web/src/pages/*.js (and the test harness) into web/static/js/ as ES modules.
// Code splitting: shared code (the key store, the API client) lives in chunks that every page
// imports by the same URL, so soft navigation between pages keeps one module instance - and one
// set of keys in memory. Heavy crypto (age, Argon2id) sits behind dynamic import() and loads
// only on the pages that need it. Usage: node build.mjs [--watch]
import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
if (!existsSync(join(here, "src/generated/protocol.js"))) {
  console.error("web/src/generated/protocol.js is missing: run .venv/bin/python scripts/gen_protocol.py");
  process.exit(1);
}
const pages = readdirSync(join(here, "src/pages"))
  .filter((name) => name.endsWith(".js"))
  .map((name) => join(here, "src/pages", name));
const target = join(here, "static/js");
// One-shot builds write beside the live folder and swap it in, so a server (or a test) never
// sees a half-written bundle; --watch writes in place.
const watch = process.argv.includes("--watch");
const outdir = watch ? target : `${target}.next-${process.pid}`;
rmSync(outdir, { recursive: true, force: true });

const options = {
  // The encryption worker is its own entry: a same-origin module file (crypto/encrypt-job.js).
  entryPoints: [...pages, join(here, "src/testing/harness.js"), join(here, "src/workers/encrypt.js")],
  outbase: join(here, "src"),
  outdir,
  bundle: true,
  format: "esm",
  splitting: true,
  minify: true,
  sourcemap: false,
  target: ["chrome110", "firefox115", "safari16"],
  chunkNames: "chunks/[name]-[hash]",
  entryNames: "[dir]/[name]",
  metafile: true,
  legalComments: "none",
  keepNames: true, // error classes keep their names (pages and tests tell them apart)
  logLevel: "warning",
};

// The link page's service worker (src/link-sw.js): one classic script with everything inlined
// (a worker cannot import() the page chunks), served as /static/js/link-sw.js so its scope can
// be /static/js/link-download/.
const workerOptions = {
  ...options,
  entryPoints: [join(here, "src/link-sw.js")],
  outbase: undefined,
  outdir: undefined,
  outfile: join(outdir, "link-sw.js"),
  splitting: false,
  format: "iife",
  chunkNames: undefined,
  entryNames: undefined,
};

if (watch) {
  const context = await esbuild.context(options);
  await context.watch();
  await (await esbuild.context(workerOptions)).watch();
  console.log("watching web/src ...");
} else {
  const result = await esbuild.build(options);
  const worker = await esbuild.build(workerOptions);
  const outputs = [...Object.entries(result.metafile.outputs), ...Object.entries(worker.metafile.outputs)];
  const total = outputs.reduce((sum, [, info]) => sum + info.bytes, 0);
  writeFileSync(join(outdir, ".built"), `${new Date().toISOString()}\n`);
  const old = `${target}.old-${process.pid}`;
  if (existsSync(target)) renameSync(target, old);
  renameSync(outdir, target);
  rmSync(old, { recursive: true, force: true });
  console.log(`built ${outputs.length} files into web/static/js (${Math.round(total / 1024)} KiB)`);
}
