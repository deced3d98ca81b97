// Standing grants in the browser, like wallet/client/grants.py: the owner gives a person
// access (HPKE wraps of the document keys, signed statements), lists and ends it; the grantee
// lists what it received and opens it, every piece checked against the owner's signatures.
//
// Pinned keys: the command line remembers each person's key fingerprint in a file (PinStore).
// This page keeps them in memory for the session only, and checks the served key again at each
// use: a different key within the session is refused. After a reload nothing is remembered, so
// the person compares the 12-digit safety code again (the page says so).
import { getJson, postJson, request } from "./api.js";
import { b64d, b64e, canonicalJson, concat, fromUtf8, hex, isoNowSeconds, sha256, sha256Hex, utf8 } from "./crypto/encoding.js";
import { BadSignature, sign, verify } from "./crypto/signing.js";
import { documentKeyInfo, keyId, openSealed, profileFieldInfo, seal } from "./crypto/wrap.js";
import { infoBytes, KIND, LABELS, statement } from "./protocol.js";
import { getSession } from "./session.js";
import { downloadBlob, WrongSize } from "./tus.js";
import { PlainError } from "./ui.js";
import { listDocuments, onNewVersion, safeMediaType } from "./vault.js";
import { chooseDocuments, isoUtc } from "./links.js";
import { checkCounterpart, checkProfile, coveredChange, HEADER, markRevoked, ownHead, refusal, Refused } from "./vaulthead.js";

/** The server served a different key for someone this session already knows. */
export class KeyChanged extends PlainError {}
export class GrantIntegrityError extends PlainError {}

function session() {
  const current = getSession();
  if (!current) throw new PlainError("errors.locked");
  return current;
}

export async function fingerprint(publicEncryptionKey, publicSigningKey) {
  return hex(await sha256(concat(utf8(LABELS.SAFETY_CODE), publicEncryptionKey, publicSigningKey)));
}

/** Twelve digits two people read aloud to each other, "1234 5678 9012" (like safety_code). */
export async function safetyCode(publicEncryptionKey, publicSigningKey) {
  const print = await fingerprint(publicEncryptionKey, publicSigningKey);
  const digits = (BigInt(`0x${print.slice(0, 16)}`) % 10n ** 12n).toString().padStart(12, "0");
  return `${digits.slice(0, 4)} ${digits.slice(4, 8)} ${digits.slice(8)}`;
}

export async function ownSafetyCode() {
  const { keys } = session();
  return safetyCode(keys.publicEncryptionKey, keys.publicSigningKey);
}

// handle -> fingerprint, for this tab's session only (see the top of this file).
const pins = new Map();
export const pinnedHandles = () => [...pins.keys()];
export function forgetPins() {
  pins.clear();
}

/** Like PinStore.check: true the first time; KeyChanged if the key differs from the pinned one. */
export async function checkPin(handle, served, { acceptNew = false } = {}) {
  const seen = await fingerprint(b64d(served.public_encryption_key), b64d(served.public_signing_key));
  const pinned = pins.get(handle);
  if (pinned !== undefined && pinned !== seen && !acceptNew) {
    throw new KeyChanged("grant.key_changed", { handle });
  }
  pins.set(handle, seen);
  return pinned === undefined;
}

/** The person's public keys and safety code, checked to belong to the handle asked for. */
export async function lookupPerson(handle) {
  const wanted = handle.trim().toLowerCase();
  const keys = await getJson(`/people/${encodeURIComponent(wanted)}`);
  if (keys.handle !== wanted || keys.key_id !== (await keyId(b64d(keys.public_encryption_key)))) {
    throw new KeyChanged("grant.wrong_person", { handle: wanted });
  }
  const pinned = pins.get(wanted);
  const seen = await fingerprint(b64d(keys.public_encryption_key), b64d(keys.public_signing_key));
  return {
    keys,
    code: await safetyCode(b64d(keys.public_encryption_key), b64d(keys.public_signing_key)),
    known: pinned === seen,
    changed: pinned !== undefined && pinned !== seen,
  };
}

export const grantInfo = (grantId, recipientKeyId) => infoBytes(LABELS.GRANT, grantId, recipientKeyId);

/** _wrap_for: the version's key sealed to the grantee, with the owner's statement binding the
 * wrap to this grant and naming the manifest's hash (the bytes exactly as served): the owner
 * vouches for it even when a proxy signed it (a document added on the owner's behalf). For a
 * team (`team` true) the statement binds the key itself (its public half), not the wrap, which
 * rotations redo. */
async function wrapFor(keys, head, grantId, grantee, documentId, version, identity, manifestSha256, team = false) {
  // Never for a grant the owner took back (the signed head says so), whatever the server shows.
  if (head.revoked.grants.has(grantId)) throw new Refused("changed");
  const wrapped = await seal(
    b64d(grantee.public_encryption_key),
    utf8(identity),
    documentKeyInfo(documentId, version, grantee.key_id),
  );
  const fields = {
    grant_id: grantId,
    document_id: documentId,
    version,
    ...(manifestSha256 ? { manifest_sha256: manifestSha256 } : {}),
  };
  const [signed, signature] = sign(
    keys.signingSeed,
    team
      ? statement(KIND.GRANT_WRAP_TEAM, { ...fields, key_sha256: await keySha256(identity) })
      : statement(KIND.GRANT_WRAP, { ...fields, wrap_sha256: await sha256Hex(wrapped) }),
  );
  return {
    document_id: documentId,
    version,
    wrapped_key: b64e(wrapped),
    statement: b64e(signed),
    statement_signature: b64e(signature),
  };
}

function profileStatement(slot, ciphertextSha, wrapSha) {
  return statement(KIND.PROFILE_FIELD, { slot, ciphertext_sha256: ciphertextSha, wrap_sha256: wrapSha });
}

/** name -> { slot, identity } of the owner's profile fields, each checked (vault.profile_identities). */
async function profileIdentities(keys, head) {
  const age = await import("./crypto/age.js");
  const result = {};
  const rows = await getJson("/profile");
  await checkProfile(head, rows); // each field exactly as the owner left it
  for (const row of rows) {
    try {
      const ciphertext = b64d(row.ciphertext);
      const wrapped = b64d(row.wrapped_key);
      verify(
        keys.publicSigningKey,
        canonicalJson(profileStatement(row.slot, await sha256Hex(ciphertext), await sha256Hex(wrapped))),
        b64d(row.signature),
      );
      const identity = fromUtf8(
        await openSealed(await keys.encryptionKey(), wrapped, profileFieldInfo(row.slot, await keys.keyId())),
      );
      const record = JSON.parse(fromUtf8(await age.decryptBytes(ciphertext, identity)));
      if ((await keys.profileSlot(record.name)) !== row.slot) throw new Error("moved");
      result[record.name] = { slot: row.slot, identity };
    } catch {
      throw new GrantIntegrityError("errors.profile_changed");
    }
  }
  return result;
}

async function fieldWraps(keys, head, grantId, grantee, names, team = false) {
  if (!names.length) return [];
  if (head.revoked.grants.has(grantId)) throw new Refused("changed");
  const identities = await profileIdentities(keys, head);
  const wraps = [];
  for (const name of names) {
    if (!(name in identities)) continue;
    const { slot, identity } = identities[name];
    const wrapped = await seal(b64d(grantee.public_encryption_key), utf8(identity), profileFieldInfo(slot, grantee.key_id));
    const [signed, signature] = sign(
      keys.signingSeed,
      team
        ? statement(KIND.GRANT_FIELD_TEAM, { grant_id: grantId, slot, key_sha256: await keySha256(identity) })
        : statement(KIND.GRANT_FIELD, { grant_id: grantId, slot, wrap_sha256: await sha256Hex(wrapped) }),
    );
    wraps.push({ slot, wrapped_key: b64e(wrapped), statement: b64e(signed), statement_signature: b64e(signature) });
  }
  return wraps;
}

function grantScope(scope, purpose) {
  if (!purpose || !purpose.trim()) throw new PlainError("grant.purpose_needed");
  const ids = [...new Set(scope.ids || [])].sort();
  const types = [...new Set(scope.types || [])].sort();
  const fields = [...new Set(scope.fields || [])].sort();
  if (!ids.length && !types.length && !fields.length) throw new PlainError("share.nothing");
  return { documents: ids, types, fields };
}

/** _give: the signed descriptor sealed to both, and every covered key sealed to the grantee.
 * `named`: the descriptor's grantee fields; `body`: the request's grantee fields. */
async function give(grantee, named, body, scope, { purpose, expiresAt = null }, team = false) {
  const { keys, account } = session();
  const grantId = crypto.randomUUID().replaceAll("-", "");
  const descriptor = statement(KIND.GRANT, {
    grant_id: grantId,
    owner: account.handle,
    owner_key_id: await keys.keyId(),
    ...named,
    grantee_key_id: grantee.key_id,
    purpose: purpose.trim(),
    scope,
    expires_at: expiresAt ? isoUtc(expiresAt) : null,
    created_at: isoNowSeconds(),
  });
  const [message, signature] = sign(keys.signingSeed, descriptor);
  const head = await ownHead();
  const documents = await listDocuments();
  const byId = new Map(documents.map((d) => [d.id, d]));
  for (const id of scope.documents) if (!byId.has(id)) throw new PlainError("errors.not_found");
  const chosen = chooseDocuments(documents, scope.documents, scope.types);
  const wraps = [];
  for (const id of chosen) {
    const doc = byId.get(id);
    wraps.push(await wrapFor(keys, head, grantId, grantee, id, doc.version, doc.identity, doc.manifestSha256, team));
  }
  await postJson("/grants", {
    grant_id: grantId,
    ...body,
    grantee_key_id: grantee.key_id,
    sealed_for_owner: b64e(await seal(keys.publicEncryptionKey, message, grantInfo(grantId, await keys.keyId()))),
    sealed_for_grantee: b64e(await seal(b64d(grantee.public_encryption_key), message, grantInfo(grantId, grantee.key_id))),
    signature: b64e(signature),
    expires_at: expiresAt ? isoUtc(expiresAt) : null,
    wraps,
    field_wraps: await fieldWraps(keys, head, grantId, grantee, scope.fields, team),
  });
  return { id: grantId, documents: wraps.length };
}

/**
 * Gives `handle` standing access. The caller must have shown the safety code (lookupPerson)
 * and had the owner confirm it; this pins the key and refuses a changed one.
 * scope: { ids, types, fields }; options: { purpose, expiresAt: Date|null }.
 */
export async function createGrant(handle, scope, options) {
  const chosen = grantScope(scope, options.purpose);
  const person = await lookupPerson(handle);
  const grantee = person.keys;
  const first = await checkPin(grantee.handle, grantee);
  const given = await give(grantee, { grantee: grantee.handle }, { grantee_handle: grantee.handle }, chosen, options);
  return { id: given.id, grantee: grantee.handle, safetyCode: person.code, firstContact: first, documents: given.documents };
}

/**
 * create_org_grant: standing access for an organisation's team, readable by its members of the
 * day. `team`: the organisation's current key as teams.js verifiedTeam checked it (the owner
 * compared its safety code); every key is sealed to the team key, signed key by key.
 */
export async function createOrgGrant(team, scope, options) {
  const chosen = grantScope(scope, options.purpose);
  const grantee = {
    handle: team.handle,
    key_id: team.keyId,
    public_encryption_key: b64e(team.publicEncryptionKey),
  };
  const named = { grantee: team.handle, grantee_org: team.id, grantee_org_name: team.displayName };
  const given = await give(grantee, named, { grantee_org: team.handle }, chosen, options, true);
  return { id: given.id, grantee: team.handle, documents: given.documents };
}

/**
 * Opens a grant's sealed descriptor and checks the signer (like _open_descriptor). `team`: the
 * opened team key (teams.js openTeamKey) for a grant to an organisation.
 */
export async function openDescriptor(keys, grant, signerKey, team = null) {
  const [privateKey, readerKeyId] = team
    ? [await team.keys.encryptionKey(), team.keyId]
    : [await keys.encryptionKey(), await keys.keyId()];
  let message;
  try {
    message = await openSealed(privateKey, b64d(grant.sealed), grantInfo(grant.id, readerKeyId));
    verify(signerKey, message, b64d(grant.signature));
  } catch {
    throw new GrantIntegrityError("grant.changed");
  }
  const descriptor = JSON.parse(fromUtf8(message));
  if (descriptor.grant_id !== grant.id) throw new GrantIntegrityError("grant.changed");
  if (team && descriptor.grantee_org !== team.orgId) throw new GrantIntegrityError("grant.changed");
  return descriptor;
}

/**
 * The grants this owner gave, each with its opened, owner-signed descriptor. Newest first.
 * Read against the owner's signed head: a grant the head lists as taken back is shown ended
 * whatever the server says, and if the server showed one as running again, `refused` holds the
 * refusal to show (journalled once here).
 */
export async function grantsGiven() {
  const { keys } = session();
  const head = await ownHead();
  const { rows, revived } = markRevoked(head, "grants", await getJson("/grants"));
  const result = [];
  for (const grant of rows) {
    result.push({ ...grant, descriptor: await openDescriptor(keys, grant, keys.publicSigningKey) });
  }
  result.reverse();
  result.head = head;
  result.refused = revived ? await refusal("changed") : null;
  return result;
}

export async function revokeGrant(grantId) {
  await coveredChange({ revoke: { kind: "grants", id: grantId } }, (header) =>
    request("POST", `/grants/${grantId}/revoke`, { headers: { [HEADER]: header } }),
  );
}

function stillGiven(grant, head) {
  if (head.revoked.grants.has(grant.id)) return false; // the owner's signed word, not the server's
  const expires = grant.descriptor.expires_at;
  if (expires && new Date(expires) <= new Date()) return false;
  return grant.state === "active";
}

/**
 * Like wrap_new_version: gives every active person grant whose scope covers a new version its
 * key, if the served key is still the one the owner signed the grant for. Registered with
 * vault.onNewVersion by the pages that upload.
 */
export async function wrapNewVersion({ documentId, version, meta, identity, manifestSha256 }) {
  const { keys } = session();
  const changed = [];
  let count = 0;
  const given = await grantsGiven();
  for (const grant of given) {
    const scope = grant.descriptor.scope;
    if (!stillGiven(grant, given.head) || grant.grantee_kind === "organisation") continue;
    if (!scope.types.includes(meta.type) && !scope.documents.includes(documentId)) continue;
    const served = await keyId(b64d(grant.grantee.public_encryption_key));
    if (served !== grant.grantee.key_id || served !== grant.descriptor.grantee_key_id) {
      changed.push(grant.grantee.handle);
      continue;
    }
    const wrap = await wrapFor(keys, given.head, grant.id, grant.grantee, documentId, version, identity, manifestSha256);
    await postJson(`/grants/${grant.id}/wraps`, { wraps: [wrap], field_wraps: [], grantee_key_id: grant.grantee.key_id });
    count += 1;
  }
  // A grant the owner took back shown as running again: nobody under it got the key; say so.
  if (given.refused) throw given.refused;
  if (changed.length) throw new KeyChanged("grant.key_changed", { handle: changed.join(", ") });
  return count;
}

// --- the grantee's side ----------------------------------------------------------------------

/** Grants to this account (grants to an organisation are read in the worker pages). */
export async function received() {
  const { keys } = session();
  const result = [];
  for (const grant of await getJson("/received")) {
    if (grant.grantee_kind === "organisation") {
      result.push({ ...grant, descriptor: null, team: true });
      continue;
    }
    await checkPin(grant.owner.handle, grant.owner);
    const descriptor = await openDescriptor(keys, grant, b64d(grant.owner.public_signing_key));
    result.push({ ...grant, descriptor, team: false });
  }
  return result;
}

/** Name of a document or field key by its public half (key_sha256 in grants.py). */
export async function keySha256(identity) {
  const age = await import("./crypto/age.js");
  return sha256Hex(utf8(await age.recipientOf(identity)));
}

/**
 * The newest version of each document under the grant, checked like received_documents.
 * `team`: the opened team key, for a grant to an organisation (teams.js readerFor).
 */
/** The owner's signed head, as this grantee is shown it: refuses a grant the owner took back
 * (vaulthead.checkCounterpart), before anything of it is opened. */
export async function checkReceivedGrant(grant) {
  await checkCounterpart("grants", grant.id, await getJson(`/received/${grant.id}/head`), {
    ownerHandle: grant.owner.handle,
    ownerSigningKey: b64d(grant.owner.public_signing_key),
    ownerKeyId: grant.descriptor?.owner_key_id ?? grant.owner.key_id,
  });
}

export async function receivedDocuments(grant, team = null) {
  const { keys } = session();
  await checkReceivedGrant(grant);
  const age = await import("./crypto/age.js");
  const ownerKey = b64d(grant.owner.public_signing_key);
  const [privateKey, readerKeyId] = team
    ? [await team.keys.encryptionKey(), team.keyId]
    : [await keys.encryptionKey(), await keys.keyId()];
  const latest = new Map();
  for (const item of await getJson(`/received/${grant.id}/documents`)) {
    const statementBytes = b64d(item.statement);
    const wrapped = b64d(item.wrapped_key);
    const manifestBytes = b64d(item.manifest);
    try {
      verify(ownerKey, statementBytes, b64d(item.statement_signature));
    } catch (error) {
      if (error instanceof BadSignature) throw new GrantIntegrityError("grant.not_signed");
      throw error;
    }
    const statement = JSON.parse(fromUtf8(statementBytes));
    const vouched = statement.manifest_sha256;
    if (vouched !== undefined && vouched !== null) {
      // The owner's signed statement names this very manifest (maybe one a proxy signed).
      if (vouched !== (await sha256Hex(manifestBytes))) throw new GrantIntegrityError("grant.changed");
    } else {
      try {
        verify(ownerKey, manifestBytes, b64d(item.signature));
      } catch (error) {
        if (error instanceof BadSignature) throw new GrantIntegrityError("grant.not_signed");
        throw error;
      }
    }
    const manifest = JSON.parse(fromUtf8(manifestBytes));
    const encryptedMeta = b64d(item.encrypted_meta);
    const bound = team
      ? statement.kind === KIND.GRANT_WRAP_TEAM
      : statement.wrap_sha256 === (await sha256Hex(wrapped));
    if (
      statement.grant_id !== grant.id ||
      statement.document_id !== item.document_id ||
      statement.version !== item.version ||
      !bound ||
      manifest.document_id !== item.document_id ||
      manifest.version !== item.version ||
      manifest.meta_sha256 !== (await sha256Hex(encryptedMeta))
    ) {
      throw new GrantIntegrityError("grant.changed");
    }
    let identity;
    let meta;
    try {
      const info = documentKeyInfo(item.document_id, item.version, readerKeyId);
      identity = age.parseIdentity(fromUtf8(await openSealed(privateKey, wrapped, info)));
      // For a team the owner signed the key itself: a key an admin resealed must be the very
      // one the owner gave.
      if (team && statement.key_sha256 !== (await keySha256(identity))) throw new Error("not signed");
      meta = JSON.parse(fromUtf8(await age.decryptBytes(encryptedMeta, identity)));
    } catch {
      throw new GrantIntegrityError("grant.changed");
    }
    const current = latest.get(item.document_id);
    if (!current || current.version < item.version) {
      latest.set(item.document_id, {
        documentId: item.document_id,
        version: item.version,
        size: Number(manifest.blob_size), // the signed size, not the server's
        blobSha256: manifest.blob_sha256,
        meta,
        identity,
      });
    }
  }
  return [...latest.values()];
}

/**
 * The profile fields shared under an opened grant, each checked against the owner's
 * signatures and the grant's signed scope (like received_profile). name -> value.
 */
export async function receivedProfile(grant, team = null) {
  const { keys } = session();
  await checkReceivedGrant(grant);
  const age = await import("./crypto/age.js");
  const ownerKey = b64d(grant.owner.public_signing_key);
  const [privateKey, readerKeyId] = team
    ? [await team.keys.encryptionKey(), team.keyId]
    : [await keys.encryptionKey(), await keys.keyId()];
  const allowed = new Set(grant.descriptor.scope.fields || []);
  const fields = {};
  for (const row of await getJson(`/received/${grant.id}/profile`)) {
    const wrapped = b64d(row.wrapped_key);
    const ciphertext = b64d(row.ciphertext);
    let record;
    try {
      verify(
        ownerKey,
        canonicalJson(profileStatement(row.slot, await sha256Hex(ciphertext), row.owner_wrap_sha256)),
        b64d(row.field_signature),
      );
      const statementBytes = b64d(row.statement);
      verify(ownerKey, statementBytes, b64d(row.statement_signature));
      const statement = JSON.parse(fromUtf8(statementBytes));
      const bound = team
        ? statement.kind === KIND.GRANT_FIELD_TEAM
        : statement.kind === KIND.GRANT_FIELD && statement.wrap_sha256 === (await sha256Hex(wrapped));
      if (!bound || statement.grant_id !== grant.id || statement.slot !== row.slot) throw new Error("statement");
      const identity = age.parseIdentity(
        fromUtf8(await openSealed(privateKey, wrapped, profileFieldInfo(row.slot, readerKeyId))),
      );
      if (team && statement.key_sha256 !== (await keySha256(identity))) throw new Error("not signed");
      record = JSON.parse(fromUtf8(await age.decryptBytes(ciphertext, identity)));
    } catch {
      throw new GrantIntegrityError("grant.field_changed");
    }
    if (!allowed.has(record.name)) throw new GrantIntegrityError("grant.field_not_given");
    fields[record.name] = record.value;
  }
  return fields;
}

/** Downloads, checks and decrypts one received document. Returns a Blob. */
export async function receivedBlob(grant, doc, { onProgress, signal } = {}) {
  const path = `/received/${grant.id}/documents/${doc.documentId}/versions/${doc.version}/blob`;
  let downloaded;
  try {
    downloaded = await downloadBlob(path, doc.size, { onProgress, signal });
  } catch (error) {
    if (error instanceof WrongSize) throw new GrantIntegrityError("errors.file_damaged");
    throw error;
  }
  if (downloaded.digest !== doc.blobSha256) throw new GrantIntegrityError("errors.file_damaged");
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
    throw new GrantIntegrityError("errors.file_damaged");
  }
  return new Blob(parts, { type: safeMediaType(doc.meta.media_type) });
}

// Every upload in this tab (web/src/pages/upload.js imports this module) wraps the new
// version for the grants that cover it, as the Python client's upload does.
onNewVersion(wrapNewVersion);
