// The WebAssembly hashes from hash-wasm, imported by name so the bundle keeps only these two.
// Load it lazily: `const { argon2id } = await import("./wasm.js")`.
export { argon2id, createSHA256 } from "hash-wasm";
