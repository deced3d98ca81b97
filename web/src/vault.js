// The owner's wallet in the browser (like wallet/client/vault.py): every encrypt, decrypt, wrap
// and signature happens here, in the same formats as the Python client. Keys come from
// session.js; nothing here stores anything.
import { getJson, postJson, request } from "./api.js";
import {
  b64d,
  b64e,
  canonicalJson,
  fromUtf8,
  isoNowSeconds,
  randomBytes,
  sha256Hex,
  utf8,
} from "./crypto/encoding.js";
import { deriveCredentials, splitRecoveryKey } from "./crypto/kdf.js";
import { AccountKeys, WrongKey } from "./crypto/keys.js";
import { checkKdfPin, pinKdf, strongestCost } from "./kdfpins.js";
import { formatRecoveryKey, newRecoveryKey, parseRecoveryKey } from "./crypto/recovery.js";
import { BadSignature, sign, verify } from "./crypto/signing.js";
import { documentKeyInfo, openSealed, profileFieldInfo, seal } from "./crypto/wrap.js";
import { KIND, statement } from "./protocol.js";
import { getSession, setSession } from "./session.js";
import { downloadBlob, partsFor, partsUploader, streamUploader, WrongSize } from "./tus.js";
import { PlainError } from "./ui.js";
import {
  checkDocument,
  checkDocuments,
  checkOwnHead,
  checkProfile,
  coveredChange,
  HEADER,
  ownHead,
  setDocumentSource,
} from "./vaulthead.js";

export const META_VERSION = 1;
const loadAge = () => import("./crypto/age.js");

/** Something is wrong with what the server sent: do not trust it. */
export class IntegrityFailure extends PlainError {}

function session() {
  const current = getSession();
  if (!current) throw new PlainError("errors.locked");
  return current;
}

// --- accounts -------------------------------------------------------------------------------

/** Turns the fresh token into the HttpOnly cookie, then forgets it. */
async function adoptToken(token) {
  await request("POST", "/web/session", { token });
}

function checkServedKeys(keys, account) {
  // The server must hand back the public keys that belong to our private keys.
  const enc = b64d(account.public_encryption_key);
  const sig = b64d(account.public_signing_key);
  if (b64e(enc) !== b64e(keys.publicEncryptionKey) || b64e(sig) !== b64e(keys.publicSigningKey)) {
    throw new IntegrityFailure("errors.keys_swapped");
  }
}

export async function newAccountParams() {
  return getJson("/accounts/params");
}

/** Creates the account; returns the recovery key text, to show once and never store. */
export async function createAccount(handle, passphrase, params) {
  const p = params ?? (await newAccountParams());
  const creds = await deriveCredentials(passphrase, randomBytes(16), p.opslimit, p.memlimit);
  const keys = AccountKeys.generate();
  const recoveryKey = newRecoveryKey();
  const [recoveryAuth, recoveryKek] = await splitRecoveryKey(recoveryKey);
  const created = await postJson("/accounts", {
    handle,
    kdf_salt: b64e(creds.salt),
    kdf_opslimit: creds.opslimit,
    kdf_memlimit: creds.memlimit,
    auth_key: b64e(creds.authKey),
    recovery_auth_key: b64e(recoveryAuth),
    public_encryption_key: b64e(keys.publicEncryptionKey),
    public_signing_key: b64e(keys.publicSigningKey),
    keys_by_passphrase: b64e(await keys.lock(creds.kek)),
    keys_by_recovery: b64e(await keys.lock(recoveryKek)),
  });
  await adoptToken(created.token);
  setSession(keys, created.account);
  await pinKdf(created.account.handle, creds.salt, creds.opslimit, creds.memlimit);
  const text = await formatRecoveryKey(recoveryKey);
  recoveryKey.fill(0);
  return text;
}

/** `newSaltOk`: the person says they changed their passphrase on another device, so another
 * salt than the one this device saw is expected (the cost must still not drop). */
export async function login(handle, passphrase, { newSaltOk = false } = {}) {
  const params = await postJson("/auth/prelogin", { handle });
  const salt = b64d(params.salt);
  // Before any work: nothing derived from the passphrase leaves under a cost or salt this
  // device does not accept (kdfpins.js).
  await checkKdfPin(handle, salt, params.opslimit, params.memlimit, { newSaltOk });
  const creds = await deriveCredentials(passphrase, salt, params.opslimit, params.memlimit);
  const started = await postJson("/auth/login", { handle, auth_key: b64e(creds.authKey) });
  await adoptToken(started.token);
  let keys;
  try {
    keys = await AccountKeys.unlock(creds.kek, b64d(started.account.keys_by_passphrase));
  } catch (error) {
    if (error instanceof WrongKey) throw new IntegrityFailure("errors.keys_swapped");
    throw error;
  }
  checkServedKeys(keys, started.account);
  setSession(keys, started.account);
  await pinKdf(handle, creds.salt, creds.opslimit, creds.memlimit);
  // The owner's signed head, checked against what this device saw (vaulthead.js).
  await checkOwnHead();
  return started.account;
}

/**
 * The organisation's sign-in showed this page a one-time code (like oidc.login_with_code): the
 * passphrase still opens the wallet. The salt and cost come with the code and are checked like
 * a normal login's; the code plus the passphrase proof buy the session; the keys unlock here.
 */
export async function loginWithOidcCode(code, passphrase, { newSaltOk = false } = {}) {
  const params = await postJson("/auth/oidc/exchange/params", { code: code.trim() });
  const handle = String(params.handle).trim().toLowerCase();
  const salt = b64d(params.kdf.salt);
  await checkKdfPin(handle, salt, params.kdf.opslimit, params.kdf.memlimit, { newSaltOk });
  const creds = await deriveCredentials(passphrase, salt, params.kdf.opslimit, params.kdf.memlimit);
  const started = await postJson("/auth/oidc/exchange", { code: code.trim(), auth_key: b64e(creds.authKey) });
  // The pin was checked for the handle the server named first: it must be the same one.
  if (String(started.account.handle).trim().toLowerCase() !== handle) throw new IntegrityFailure("errors.keys_swapped");
  await adoptToken(started.token);
  let keys;
  try {
    keys = await AccountKeys.unlock(creds.kek, b64d(started.account.keys_by_passphrase));
  } catch (error) {
    if (error instanceof WrongKey) throw new IntegrityFailure("errors.keys_swapped");
    throw error;
  }
  checkServedKeys(keys, started.account);
  setSession(keys, started.account);
  await pinKdf(handle, creds.salt, creds.opslimit, creds.memlimit);
  await checkOwnHead();
  return started.account;
}

/** The recovery key opens the wallet; a new passphrase is chosen at once (like the CLI). */
export async function recover(handle, recoveryText, newPassphrase) {
  const recoveryKey = await parseRecoveryKey(recoveryText);
  const [recoveryAuth, recoveryKek] = await splitRecoveryKey(recoveryKey);
  const started = await postJson("/auth/recover", {
    handle,
    recovery_auth_key: b64e(recoveryAuth),
  });
  await adoptToken(started.token);
  let keys;
  try {
    keys = await AccountKeys.unlock(recoveryKek, b64d(started.keys_by_recovery));
  } catch {
    throw new PlainError("errors.recovery_wrong");
  }
  checkServedKeys(keys, started.account);
  const p = await strongestCost(handle, await newAccountParams());
  const creds = await deriveCredentials(newPassphrase, randomBytes(16), p.opslimit, p.memlimit);
  const changed = await (
    await request("PUT", "/accounts/me/passphrase", {
      json: {
        current_auth_key: null,
        kdf_salt: b64e(creds.salt),
        kdf_opslimit: creds.opslimit,
        kdf_memlimit: creds.memlimit,
        auth_key: b64e(creds.authKey),
        keys_by_passphrase: b64e(await keys.lock(creds.kek)),
      },
    })
  ).json();
  await adoptToken(changed.token);
  setSession(keys, changed.account);
  await pinKdf(changed.account.handle, creds.salt, creds.opslimit, creds.memlimit);
  await checkOwnHead();
  return changed.account;
}

// --- documents ------------------------------------------------------------------------------

async function openDocumentKey(keys, wrapped, documentId, version) {
  const info = documentKeyInfo(documentId, version, await keys.keyId());
  try {
    return fromUtf8(await openSealed(await keys.encryptionKey(), wrapped, info));
  } catch {
    throw new IntegrityFailure("errors.document_changed");
  }
}

// Documents a trusted person added under a mandate are signed by the proxy key this owner
// signed into that mandate (like Vault._mandate_signer / mandates.proxy_signers). The map is
// built lazily, once per session, only when a manifest names a mandate; a mandate this session
// has not seen yet (given since) triggers one fresh read before the manifest is refused.
let proxySigners = null; // { owner: the session object, loading: Promise<Map> }

async function readProxySigners() {
  // proxy.js imports this module: load it only when needed, and keep one copy of its opening.
  const { mandatesGiven } = await import("./proxy.js");
  const signers = new Map();
  for (const mandate of await mandatesGiven()) {
    const descriptor = mandate.descriptor;
    signers.set(mandate.id, {
      handle: descriptor.proxy,
      signingKey: b64d(descriptor.proxy_signing_key),
      keyId: descriptor.proxy_key_id,
      expiresAt: Date.parse(descriptor.expires_at),
      actions: descriptor.actions,
    });
  }
  return signers;
}

async function proxySignersOf(current, { fresh = false } = {}) {
  if (fresh || !proxySigners || proxySigners.owner !== current) {
    const loading = readProxySigners();
    proxySigners = { owner: current, loading };
    loading.catch(() => {
      if (proxySigners?.loading === loading) proxySigners = null; // try again next time
    });
  }
  return proxySigners.loading;
}

/** The proxy key a manifest naming a mandate must be signed with; refuses anything else. */
async function mandateSigner(current, manifest) {
  const mandateId = String(manifest.mandate_id);
  let signer = (await proxySignersOf(current)).get(mandateId);
  if (!signer) signer = (await proxySignersOf(current, { fresh: true })).get(mandateId);
  const signedAt = typeof manifest.signed_at === "string" ? Date.parse(manifest.signed_at) : NaN;
  if (
    !signer ||
    manifest.signer_key_id !== signer.keyId ||
    !signer.actions.includes("upload") ||
    Number.isNaN(signedAt) ||
    Number.isNaN(signer.expiresAt) ||
    signedAt > signer.expiresAt
  ) {
    throw new IntegrityFailure("errors.proxy_not_signed");
  }
  return signer;
}

/** A manifest signed by the owner, or by the proxy of the mandate it names (see above). */
async function verifiedManifest(current, message, signature) {
  let claimed;
  try {
    claimed = JSON.parse(fromUtf8(message));
  } catch {
    throw new IntegrityFailure("errors.document_changed");
  }
  if (!claimed || typeof claimed !== "object") throw new IntegrityFailure("errors.document_changed");
  let signer = current.keys.publicSigningKey;
  let proxy = null;
  if (claimed.mandate_id) {
    proxy = await mandateSigner(current, claimed);
    signer = proxy.signingKey;
  }
  try {
    verify(signer, message, signature);
  } catch (error) {
    if (error instanceof BadSignature) {
      throw new IntegrityFailure(proxy ? "errors.proxy_not_signed" : "errors.document_changed");
    }
    throw error;
  }
  return [claimed, proxy?.handle ?? null];
}

/** The signed manifest of one version, checked against what the server sent. */
async function checkedManifest(current, item, documentId, version) {
  const { keys } = current;
  const message = b64d(item.manifest);
  const [manifest, addedByHandle] = await verifiedManifest(current, message, b64d(item.signature));
  const wrapSha = await sha256Hex(b64d(item.wrapped_key));
  const keyId = await keys.keyId();
  if (
    manifest.document_id !== documentId ||
    manifest.version !== version ||
    manifest.meta_sha256 !== (await sha256Hex(b64d(item.encrypted_meta))) ||
    !(manifest.wraps || []).some((w) => w.key_id === keyId && w.sha256 === wrapSha)
  ) {
    throw new IntegrityFailure("errors.document_changed");
  }
  return { manifest, addedBy: addedByHandle, manifestSha256: await sha256Hex(message) };
}

async function decryptMeta(encryptedMeta, identity) {
  const age = await loadAge();
  try {
    return JSON.parse(fromUtf8(await age.decryptBytes(encryptedMeta, identity)));
  } catch {
    throw new IntegrityFailure("errors.document_changed");
  }
}

/** Every row of the listing, each current manifest checked against its signer: { row,
 * checked, id, current_version, head_version, manifest } (what vaulthead.js checks). */
async function checkedRows(current) {
  const rows = [];
  let cursor = null;
  do {
    const query = new URLSearchParams({ limit: "1000", ...(cursor ? { cursor } : {}) });
    const page = await getJson(`/documents?${query}`);
    for (const row of page.documents) {
      const checked = await checkedManifest(current, row, row.id, row.current_version);
      rows.push({
        row,
        checked,
        id: row.id,
        current_version: row.current_version,
        head_version: row.head_version ?? null,
        manifest: checked.manifest,
      });
    }
    cursor = page.next_cursor;
  } while (cursor);
  return rows;
}

setDocumentSource(() => checkedRows(session()));

/** Every document, newest first as the server lists them, each checked (against its signer
 * and the owner's signed head) and decrypted. */
export async function listDocuments() {
  const current = session();
  const { keys } = current;
  const head = await ownHead();
  const rows = await checkedRows(current);
  await checkDocuments(head, rows);
  const documents = [];
  for (const { row, checked } of rows) {
    const identity = await openDocumentKey(keys, b64d(row.wrapped_key), row.id, row.current_version);
    documents.push({
      id: row.id,
      version: row.current_version,
      versions: row.versions,
      size: row.size,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      meta: await decryptMeta(b64d(row.encrypted_meta), identity),
      identity,
      // The proxy who added it on the owner's behalf (a mandate with "upload"), or null.
      addedBy: checked.addedBy,
      // Grants vouch for these exact bytes, so a grantee trusts a proxy-signed manifest.
      manifestSha256: checked.manifestSha256,
    });
  }
  return documents;
}

/** All versions of one document, oldest first, each checked against the owner's signature. */
export async function versions(documentId) {
  const current = session();
  const { keys } = current;
  const head = await ownHead();
  const detail = await getJson(`/documents/${documentId}`);
  const result = [];
  const checkedItems = [];
  for (const item of detail.versions) {
    checkedItems.push([item, await checkedManifest(current, item, documentId, item.version)]);
  }
  const currentItem = checkedItems.find(([item]) => item.version === detail.current_version);
  await checkDocument(head, {
    current_version: detail.current_version,
    head_version: detail.head_version ?? null,
    manifest: currentItem?.[1].manifest,
  });
  for (const [item, checked] of checkedItems) {
    const identity = await openDocumentKey(keys, b64d(item.wrapped_key), documentId, item.version);
    result.push({
      version: item.version,
      size: item.size,
      createdAt: item.created_at,
      meta: await decryptMeta(b64d(item.encrypted_meta), identity),
      identity,
      manifest: checked.manifest,
      addedBy: checked.addedBy,
      manifestSha256: checked.manifestSha256,
    });
  }
  return { id: detail.id, currentVersion: detail.current_version, versions: result };
}

/** Encrypts a File into an age Blob, hashing the ciphertext as it goes. */
export async function encryptFile(file, recipient) {
  const age = await loadAge();
  const { createSHA256 } = await import("./crypto/wasm.js");
  const hasher = await createSHA256();
  hasher.init();
  const stream = await age.encryptStream(file.stream(), recipient);
  const reader = stream.getReader();
  const parts = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hasher.update(value);
    parts.push(value);
    size += value.length;
  }
  return { blob: new Blob(parts, { type: "application/octet-stream" }), sha256: hasher.digest("hex"), size };
}

/**
 * Encrypts `file` and uploads the ciphertext at once: the encryption runs in a Web Worker
 * (crypto/encrypt-job.js) while the chunks already made go up, in one upload or in parallel
 * parts (tus.js). The SHA-256 is of the whole ciphertext, in order: what the server joins.
 */
async function encryptWhileUploading(file, recipient, { signal, onProgress }) {
  const { encryptJob } = await import("./crypto/encrypt-job.js");
  const job = await encryptJob(file, recipient, { signal });
  const uploader =
    partsFor(job.size) > 1
      ? partsUploader({
          sizeHint: job.size,
          signal,
          onProgress: (done, made, state) => onProgress(done, Math.max(made, job.size), state),
        })
      : streamUploader({ total: job.size, signal, onProgress });
  try {
    for await (const chunk of job.chunks) await uploader.push(chunk);
    const uploadId = await uploader.finish();
    return { uploadId, ...(await job.finished) };
  } finally {
    job.stop();
  }
}

// Other parts (standing grants) register here to wrap each new version for their grantees,
// as the Python client's wrap_new_version does.
// fn({ documentId, version, meta, identity, manifest, manifestSha256 }).
const newVersionHooks = new Set();
export function onNewVersion(fn) {
  newVersionHooks.add(fn);
  return () => newVersionHooks.delete(fn);
}

/**
 * Uploads a File as a new document, or as a new version of `replace`.
 * meta: { type, title, expiry_date?, issuer?, issue_date?, label?, tags? }.
 * onProgress(phase, done, total, { waiting }) with phase "encrypt" | "upload".
 */
export async function uploadDocument(file, meta, { replace = null, onProgress, signal } = {}) {
  const { keys } = session();
  const age = await loadAge();
  let documentId;
  let version;
  if (replace) {
    const current = await getJson(`/documents/${replace}`);
    documentId = replace;
    version = current.current_version + 1;
  } else {
    documentId = crypto.randomUUID().replaceAll("-", "");
    version = 1;
  }
  const fullMeta = {
    v: META_VERSION,
    type: meta.type || "other",
    title: meta.title || file.name.replace(/\.[^.]+$/, "") || "document",
    label: meta.label ?? null,
    issuer: meta.issuer ?? null,
    issue_date: meta.issue_date ?? null,
    expiry_date: meta.expiry_date ?? null,
    tags: meta.tags ?? [],
    file_name: file.name || "document",
    media_type: file.type || "application/octet-stream",
  };
  const identity = await age.newIdentity();
  const recipient = await age.recipientOf(identity);
  const encryptedMeta = await age.encryptBytes(utf8(JSON.stringify(fullMeta)), recipient);
  const keyId = await keys.keyId();
  const wrappedKey = await seal(
    keys.publicEncryptionKey,
    utf8(identity),
    documentKeyInfo(documentId, version, keyId),
  );
  onProgress?.("encrypt", 0, file.size, {});
  // The chunks go up while the next ones are encrypted, in one upload or in parallel parts.
  const { uploadId, ...encrypted } = await encryptWhileUploading(file, recipient, {
    signal,
    onProgress: (done, total, state) => onProgress?.("upload", done, total, state),
  });
  const [manifest, signature] = sign(
    keys.signingSeed,
    statement(KIND.DOCUMENT_VERSION, {
      document_id: documentId,
    version,
    blob_sha256: encrypted.sha256,
    blob_size: encrypted.size,
    meta_sha256: await sha256Hex(encryptedMeta),
    wraps: [{ key_id: keyId, sha256: await sha256Hex(wrappedKey) }],
    signed_at: isoNowSeconds(),
    }),
  );
  const body = {
    upload_id: uploadId,
    encrypted_meta: b64e(encryptedMeta),
    wrapped_key: b64e(wrappedKey),
    manifest: b64e(manifest),
    signature: b64e(signature),
  };
  // The next head covers the new version (vaulthead.js).
  const result = await coveredChange({ documents: { [documentId]: version } }, (header) =>
    replace
      ? postJson(`/documents/${documentId}/versions`, body, { headers: { [HEADER]: header } })
      : postJson("/documents", { ...body, document_id: documentId }, { headers: { [HEADER]: header } }),
  );
  const manifestValue = JSON.parse(fromUtf8(manifest));
  for (const hook of newVersionHooks) {
    await hook({
      documentId,
      version,
      meta: fullMeta,
      identity,
      manifest: manifestValue,
      manifestSha256: await sha256Hex(manifest),
    });
  }
  return { id: result.id, version: result.version };
}

/** Downloads, checks (signed size and hash) and decrypts one version. Returns a Blob. */
export async function fetchPlaintext(documentId, version, { onProgress, signal } = {}) {
  const path = `/documents/${documentId}/versions/${version.version}/blob`;
  let downloaded;
  try {
    downloaded = await downloadBlob(path, Number(version.manifest.blob_size), { onProgress, signal });
  } catch (error) {
    if (error instanceof WrongSize) throw new IntegrityFailure("errors.file_damaged");
    throw error;
  }
  if (downloaded.digest !== version.manifest.blob_sha256) {
    throw new IntegrityFailure("errors.file_damaged");
  }
  const age = await loadAge();
  try {
    const ciphertext = new Blob(downloaded.chunks);
    const plain = await age.decryptStream(ciphertext.stream(), version.identity);
    const parts = [];
    const reader = plain.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
    }
    return new Blob(parts, { type: safeMediaType(version.meta.media_type) });
  } catch {
    throw new IntegrityFailure("errors.file_damaged");
  }
}

// Only types a browser shows without running anything; the rest is offered as a download.
const VIEWABLE = new Set(["application/pdf", "image/jpeg", "image/png", "image/gif", "image/webp", "text/plain"]);

export function safeMediaType(type) {
  return VIEWABLE.has(type) ? type : "application/octet-stream";
}

export async function deleteDocument(documentId) {
  await coveredChange({ documents: { [documentId]: null } }, (header) =>
    request("DELETE", `/documents/${documentId}`, { headers: { [HEADER]: header } }),
  );
}

// --- profile ---------------------------------------------------------------------------------

function profileStatement(slot, ciphertextSha, wrapSha) {
  return statement(KIND.PROFILE_FIELD, { slot, ciphertext_sha256: ciphertextSha, wrap_sha256: wrapSha });
}

export async function setProfileField(name, value) {
  const { keys } = session();
  const age = await loadAge();
  const slot = await keys.profileSlot(name);
  const identity = await age.newIdentity();
  const ciphertext = await age.encryptBytes(
    utf8(JSON.stringify({ v: 1, name, value })),
    await age.recipientOf(identity),
  );
  const wrapped = await seal(keys.publicEncryptionKey, utf8(identity), profileFieldInfo(slot, await keys.keyId()));
  const [, signature] = sign(
    keys.signingSeed,
    profileStatement(slot, await sha256Hex(ciphertext), await sha256Hex(wrapped)),
  );
  await coveredChange({ profile: { [slot]: await sha256Hex(ciphertext) } }, (header) =>
    request("PUT", `/profile/${slot}`, {
      json: { ciphertext: b64e(ciphertext), wrapped_key: b64e(wrapped), signature: b64e(signature) },
      headers: { [HEADER]: header },
    }),
  );
}

/** { name: value } for every field, each checked against the owner's signature. */
export async function profile() {
  const { keys } = session();
  const age = await loadAge();
  const fields = {};
  const head = await ownHead();
  const rows = await getJson("/profile");
  // Every field exactly as the owner left it: an older ciphertext (still signed) is refused.
  await checkProfile(head, rows);
  for (const row of rows) {
    try {
      const ciphertext = b64d(row.ciphertext);
      const wrapped = b64d(row.wrapped_key);
      verify(
        keys.publicSigningKey,
        canonicalJson(profileStatement(row.slot, await sha256Hex(ciphertext), await sha256Hex(wrapped))),
        b64d(row.signature),
      );
      const info = profileFieldInfo(row.slot, await keys.keyId());
      const identity = fromUtf8(await openSealed(await keys.encryptionKey(), wrapped, info));
      const record = JSON.parse(fromUtf8(await age.decryptBytes(ciphertext, identity)));
      if ((await keys.profileSlot(record.name)) !== row.slot) throw new Error("moved");
      fields[record.name] = record.value;
    } catch {
      throw new IntegrityFailure("errors.profile_changed");
    }
  }
  return fields;
}

export async function removeProfileField(name) {
  const { keys } = session();
  const slot = await keys.profileSlot(name);
  await coveredChange({ profile: { [slot]: null } }, (header) =>
    request("DELETE", `/profile/${slot}`, { headers: { [HEADER]: header } }),
  );
}
