// Emergency access in the browser, the twin of wallet/client/emergency.py (sharing/emergency on
// the server). Same formats, same checks:
// - the owner seals their keys to the trusted person's key (HPKE, label EMERGENCY_ACCESS) and
//   signs an emergency-access statement naming that person, their key, the access, the wait and
//   the hash of the sealed keys. View seals the X25519 key and the vault secret only (never the
//   signing key); take over seals the whole key bundle.
// - the trusted person's browser checks the owner's signature, the owner's signed head (an
//   arrangement the owner ended is refused, whatever the server says) and that the opened keys
//   are the owner's, before reading anything. Keys stay in this tab's memory.
import { getJson, postJson, request } from "./api.js";
import { b64d, b64e, fromUtf8, isoNowSeconds, randomBytes, sha256Hex, utf8 } from "./crypto/encoding.js";
import { deriveCredentials } from "./crypto/kdf.js";
import { AccountKeys } from "./crypto/keys.js";
import { sign, verify } from "./crypto/signing.js";
import { documentKeyInfo, keyId, openSealed, seal } from "./crypto/wrap.js";
import { checkPin, lookupPerson } from "./grants.js";
import { strongestCost } from "./kdfpins.js";
import { checkStatement, infoBytes, KIND, LABELS, statement } from "./protocol.js";
import { getSession } from "./session.js";
import { downloadBlob, WrongSize } from "./tus.js";
import { PlainError } from "./ui.js";
import { safeMediaType } from "./vault.js";
import { checkCounterpart, checkOwnerListing, coveredChange, HEADER, markRevoked, ownHead, refusal } from "./vaulthead.js";

export const ACCESS = ["view", "takeover"];
export const MIN_WAIT_DAYS = 1;
export const MAX_WAIT_DAYS = 30;

/** Something the server sent is not what the owner signed: nothing is opened. */
export class EmergencyIntegrityError extends PlainError {}

function session() {
  const current = getSession();
  if (!current) throw new PlainError("errors.locked");
  return current;
}

export const emergencyInfo = (arrangementId, recipientKeyId) =>
  infoBytes(LABELS.EMERGENCY_ACCESS, arrangementId, recipientKeyId);

function packageOf(keys, access) {
  if (access === "takeover") return keys.toBytes();
  return utf8(JSON.stringify({ v: 1, x25519: b64e(keys.x25519Secret), vault_secret: b64e(keys.vaultSecret) }));
}

// --- the owner ------------------------------------------------------------------------------

/**
 * Names `handle` as a trusted person. The page showed their safety code first (lookupPerson)
 * and the owner compared it; this pins the key and refuses a changed one.
 */
export async function addTrusted(handle, access, waitDays) {
  if (!ACCESS.includes(access)) throw new PlainError("emergency.choose_access");
  if (!Number.isInteger(waitDays) || waitDays < MIN_WAIT_DAYS || waitDays > MAX_WAIT_DAYS) {
    throw new PlainError("emergency.wait_range");
  }
  const { keys, account } = session();
  const person = await lookupPerson(handle);
  const trusted = person.keys;
  if (trusted.handle === account.handle) throw new PlainError("emergency.not_yourself");
  await checkPin(trusted.handle, trusted);
  const arrangementId = crypto.randomUUID().replaceAll("-", "");
  const sealed = await seal(
    b64d(trusted.public_encryption_key),
    packageOf(keys, access),
    emergencyInfo(arrangementId, trusted.key_id),
  );
  const [message, signature] = sign(
    keys.signingSeed,
    statement(KIND.EMERGENCY_ACCESS, {
      arrangement_id: arrangementId,
      owner: account.handle,
      owner_key_id: await keys.keyId(),
      trusted: trusted.handle,
      trusted_key_id: trusted.key_id,
      trusted_signing_key: trusted.public_signing_key,
      access,
      wait_days: waitDays,
      sealed_sha256: await sha256Hex(sealed),
      created_at: isoNowSeconds(),
    }),
  );
  await postJson("/emergency", {
    arrangement_id: arrangementId,
    trusted_handle: trusted.handle,
    trusted_key_id: trusted.key_id,
    access,
    wait_days: waitDays,
    statement: b64e(message),
    signature: b64e(signature),
    sealed: b64e(sealed),
  });
  return { id: arrangementId, trusted: trusted.handle, safetyCode: person.code };
}

/** The signed terms of a served arrangement, checked against `signingKey` (the owner's). */
function signedTerms(row, signingKey) {
  let terms;
  try {
    const message = b64d(row.statement);
    verify(signingKey, message, b64d(row.signature));
    terms = checkStatement(KIND.EMERGENCY_ACCESS, JSON.parse(fromUtf8(message)));
  } catch {
    throw new EmergencyIntegrityError("emergency.not_signed");
  }
  if (
    terms.arrangement_id !== row.id ||
    terms.access !== row.access ||
    terms.wait_days !== row.wait_days ||
    terms.trusted !== row.trusted.handle ||
    terms.trusted_key_id !== row.trusted.key_id ||
    terms.owner !== row.owner.handle
  ) {
    throw new EmergencyIntegrityError("emergency.not_signed");
  }
  return terms;
}

/** Every arrangement the owner made, newest first, each checked against the owner's own
 * signature; one the owner's signed head lists as ended is shown ended, whatever the server
 * says. */
export async function givenArrangements() {
  const { keys } = session();
  const head = await ownHead();
  const rows = await getJson("/emergency");
  for (const row of rows) signedTerms(row, keys.publicSigningKey);
  const { rows: marked, revived } = markRevoked(head, "grants", rows);
  // Shown ended whatever the server says; one it shows running again is journalled once.
  if (revived) await refusal("changed");
  return marked.map((row) => (row.revokedByHead ? { ...row, state: "ended" } : row)).reverse();
}

export async function refuseRequest(arrangementId) {
  return (await request("POST", `/emergency/${arrangementId}/refuse`)).json();
}

/** Ends it for good, under the owner's next head listing it with the revoked grants. */
export async function endArrangement(arrangementId) {
  await coveredChange({ revoke: { kind: "grants", id: arrangementId } }, (header) =>
    request("POST", `/emergency/${arrangementId}/end`, { headers: { [HEADER]: header } }),
  );
}

// --- the trusted person ----------------------------------------------------------------------

/** The arrangements naming this account, each checked against its owner's signature (the
 * owner's key pinned for this session, like a grant). */
export async function receivedArrangements() {
  const rows = await getJson("/emergency/received");
  for (const row of rows) {
    await checkPin(row.owner.handle, row.owner);
    signedTerms(row, b64d(row.owner.public_signing_key));
  }
  return rows;
}

export async function askForAccess(arrangementId) {
  return (await request("POST", `/emergency/${arrangementId}/request`)).json();
}

/**
 * The owner's keys, once released, after every check (open_keys in Python): the owner's key as
 * pinned, the owner's signature, terms naming this person and key, the owner's head (not
 * ended), and that the keys opened are the owner's. Returns { id, access, owner, keys,
 * ownerSigningKey }; for view, `keys` holds a throwaway signing key that never signs.
 */
export async function openKeys(arrangementId) {
  const { keys: mine, account } = session();
  const opened = await getJson(`/emergency/${arrangementId}/open`);
  const owner = opened.owner;
  const ownerEncryption = b64d(owner.public_encryption_key);
  const ownerSigning = b64d(owner.public_signing_key);
  if (owner.key_id !== (await keyId(ownerEncryption))) throw new EmergencyIntegrityError("emergency.not_signed");
  await checkPin(owner.handle, owner);
  let terms;
  try {
    const message = b64d(opened.statement);
    verify(ownerSigning, message, b64d(opened.signature));
    terms = checkStatement(KIND.EMERGENCY_ACCESS, JSON.parse(fromUtf8(message)));
  } catch {
    throw new EmergencyIntegrityError("emergency.not_signed");
  }
  const sealed = b64d(opened.sealed);
  const myKeyId = await mine.keyId();
  if (
    terms.arrangement_id !== arrangementId ||
    terms.owner !== owner.handle ||
    terms.owner_key_id !== owner.key_id ||
    terms.trusted !== account.handle ||
    terms.trusted_key_id !== myKeyId ||
    terms.access !== opened.access ||
    terms.sealed_sha256 !== (await sha256Hex(sealed))
  ) {
    throw new EmergencyIntegrityError("emergency.not_signed");
  }
  await checkCounterpart("grants", arrangementId, await getJson(`/emergency/${arrangementId}/head`), {
    ownerHandle: owner.handle,
    ownerSigningKey: ownerSigning,
    ownerKeyId: owner.key_id,
  });
  let keys;
  try {
    const plain = await openSealed(await mine.encryptionKey(), sealed, emergencyInfo(arrangementId, myKeyId));
    if (terms.access === "takeover") {
      keys = AccountKeys.fromBytes(plain);
    } else {
      const bundle = JSON.parse(fromUtf8(plain));
      keys = new AccountKeys(b64d(bundle.x25519), randomBytes(32), b64d(bundle.vault_secret));
    }
  } catch {
    throw new EmergencyIntegrityError("emergency.not_signed");
  }
  const same = (a, b) => a.length === b.length && a.every((byte, i) => byte === b[i]);
  if (
    !same(keys.publicEncryptionKey, ownerEncryption) ||
    (terms.access === "takeover" && !same(keys.publicSigningKey, ownerSigning))
  ) {
    keys.wipe();
    throw new EmergencyIntegrityError("emergency.wrong_keys");
  }
  return { id: arrangementId, access: terms.access, owner, keys, ownerSigningKey: ownerSigning };
}

/** One listing row's current version, checked against the owner's signature (the helper reads
 * only what the owner signed; a paper a proxy added is refused here). */
async function checkedRow(opened, row) {
  const message = b64d(row.manifest);
  let manifest;
  try {
    verify(opened.ownerSigningKey, message, b64d(row.signature));
    manifest = JSON.parse(fromUtf8(message));
  } catch {
    throw new EmergencyIntegrityError("errors.document_changed");
  }
  const ownerKeyId = await opened.keys.keyId();
  const wrapSha = await sha256Hex(b64d(row.wrapped_key));
  if (
    manifest.document_id !== row.id ||
    manifest.version !== row.current_version ||
    manifest.meta_sha256 !== (await sha256Hex(b64d(row.encrypted_meta))) ||
    !(manifest.wraps || []).some((w) => w.key_id === ownerKeyId && w.sha256 === wrapSha)
  ) {
    throw new EmergencyIntegrityError("errors.document_changed");
  }
  return manifest;
}

/** The owner's papers, each checked and its details decrypted here, newest first. */
export async function ownerDocuments(opened) {
  const age = await import("./crypto/age.js");
  const base = `/emergency/${opened.id}`;
  const rows = [];
  let cursor = null;
  do {
    const query = new URLSearchParams({ limit: "1000", ...(cursor ? { cursor } : {}) });
    const page = await getJson(`${base}/documents?${query}`);
    for (const row of page.documents) {
      const manifest = await checkedRow(opened, row);
      rows.push({ row, id: row.id, current_version: row.current_version, head_version: row.head_version ?? null, manifest });
    }
    cursor = page.next_cursor;
  } while (cursor);
  await checkOwnerListing(await getJson(`${base}/vault/head`), rows, {
    ownerHandle: opened.owner.handle,
    ownerSigningKey: opened.ownerSigningKey,
    ownerKeyId: opened.owner.key_id,
  });
  const ownerKeyId = await opened.keys.keyId();
  const documents = [];
  for (const { row, manifest } of rows) {
    let identity;
    let meta;
    try {
      const info = documentKeyInfo(row.id, row.current_version, ownerKeyId);
      identity = fromUtf8(await openSealed(await opened.keys.encryptionKey(), b64d(row.wrapped_key), info));
      meta = JSON.parse(fromUtf8(await age.decryptBytes(b64d(row.encrypted_meta), identity)));
    } catch {
      throw new EmergencyIntegrityError("errors.document_changed");
    }
    documents.push({
      id: row.id,
      version: row.current_version,
      size: Number(manifest.blob_size), // the signed size, not the server's
      blobSha256: manifest.blob_sha256,
      meta,
      identity,
    });
  }
  return documents;
}

/** Downloads, checks (signed size and hash) and decrypts one of the owner's papers. */
export async function ownerBlob(opened, doc, { onProgress, signal } = {}) {
  const path = `/emergency/${opened.id}/documents/${doc.id}/versions/${doc.version}/blob`;
  let downloaded;
  try {
    downloaded = await downloadBlob(path, doc.size, { onProgress, signal });
  } catch (error) {
    if (error instanceof WrongSize) throw new EmergencyIntegrityError("errors.file_damaged");
    throw error;
  }
  if (downloaded.digest !== doc.blobSha256) throw new EmergencyIntegrityError("errors.file_damaged");
  const age = await import("./crypto/age.js");
  const parts = [];
  try {
    const reader = (await age.decryptStream(new Blob(downloaded.chunks).stream(), doc.identity)).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
    }
  } catch {
    throw new EmergencyIntegrityError("errors.file_damaged");
  }
  return new Blob(parts, { type: safeMediaType(doc.meta.media_type) });
}

/**
 * Take over (take_over in Python): the owner's keys, locked here under a new passphrase this
 * person chose for them, replace the old lock; the server ends every session of the owner.
 * The cost is the server's, never below this browser's floor (deriveCredentials checks it).
 */
export async function takeOver(opened, newPassphrase) {
  if (opened.access !== "takeover") throw new PlainError("emergency.view_only");
  const params = await strongestCost(opened.owner.handle, await getJson("/accounts/params"));
  const creds = await deriveCredentials(newPassphrase, randomBytes(16), params.opslimit, params.memlimit);
  const body = {
    kdf_salt: b64e(creds.salt),
    kdf_opslimit: creds.opslimit,
    kdf_memlimit: creds.memlimit,
    auth_key: b64e(creds.authKey),
    keys_by_passphrase: b64e(await opened.keys.lock(creds.kek)),
  };
  creds.kek.fill(0);
  await request("POST", `/emergency/${opened.id}/takeover`, { json: body });
  opened.keys.wipe();
  return opened.owner.handle;
}
