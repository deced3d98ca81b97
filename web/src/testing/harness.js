// Test-only entry (tests/browser/test_crypto_vectors.py): exposes the crypto modules so a
// Playwright test can check them against the Python client on fixed vectors. It holds no
// secret and adds nothing a page does not already ship.
export * as encoding from "../crypto/encoding.js";
export * as kdf from "../crypto/kdf.js";
export * as keys from "../crypto/keys.js";
export * as recovery from "../crypto/recovery.js";
export * as wrap from "../crypto/wrap.js";
export * as signing from "../crypto/signing.js";
export * as links from "../crypto/links.js";
// The protocol: the generated labels, statement kinds and catalogue, and the statement builder
// every page signs with (tests/browser/test_protocol_vectors.py).
export * as protocol from "../protocol.js";
export const age = () => import("../crypto/age.js");
// The owner's vault-head digests (tests/browser/test_vault_head_page.py, vault_state.json).
export * as vaulthead from "../vaulthead.js";
