// The owner's signed vault head in the browser (like wallet/client/vaulthead.py): a sequence
// number and digests of what the owner left behind (each document's current version, each
// profile field's ciphertext, the grants, mandates and links the owner took back), signed with
// the owner's key. wallet/protocol/vault_state.py says how the digests are made.
//
// - The owner's pages check the head (with the owner's own key, never the server's word), the
//   lists the server shows against it, and refuse anything that does not match.
// - Every change the head covers carries the next head (header Wallet-Head), describing the
//   state after the change; the server stores both in one transaction.
// - This device pins the newest head it has seen for each wallet name (and, for a grantee or a
//   proxy, the newest head of each owner it reads from) and refuses an older one ("rewound").
//   The pins sit in localStorage, keyed by a hash of the name like kdfpins.js, sealed with
//   AES-GCM under a key derived from the account's vault secret. On a public kiosk they live
//   in this tab's memory and go with the session.
// - A refusal changes nothing, shares nothing, says so in plain words (Refused, a PlainError)
//   and is written into the owner's journal (best effort: a server that drops it still cannot
//   hide it from the person, who was told).
import { ApiError, getJson, postJson, request } from "./api.js";
import { b64d, b64e, canonicalJson, concat, fromUtf8, isoNowSeconds, randomBytes, sha256Hex, utf8 } from "./crypto/encoding.js";
import { hkdf } from "./crypto/kdf.js";
import { sign, verify } from "./crypto/signing.js";
import { isKiosk, onWipe } from "./kiosk.js";
import { hasLeft } from "./leaving.js";
import { checkStatement, info, infoBytes, KIND, LABELS, statement } from "./protocol.js";
import { getSession, onSessionChange } from "./session.js";
import { PlainError } from "./ui.js";

export const HEADER = "Wallet-Head";
export const STORAGE_KEY = "wallet-head-pins";
export const REVOKED_KINDS = ["grants", "mandates", "links"];
const STALE = "vault_head_stale";
const NONCE_BYTES = 12;

/**
 * The service showed a state this device must not accept. reason: "rewound" (older than this
 * device saw), "changed" (not what the owner left) or "unsigned" (a head the owner's key did
 * not sign); `taken` names the kind ("grants",
 * "mandates", "links") when the owner took this very access back.
 */
export class Refused extends PlainError {
  constructor(reason, taken = null) {
    super(taken ? `head.taken_back_${taken}` : `head.refused_${reason}`);
    this.reason = reason;
    this.taken = taken;
  }
}

function session() {
  const current = getSession();
  if (!current) throw new PlainError("errors.locked");
  return current;
}

// What this tab already wrote into the journal: one entry per account and reason, not one per
// page that ran into the same state.
const journalled = new Set();
onSessionChange((current) => {
  if (!current) journalled.clear();
});

/** Writes the refusal into the account's journal (one word, no content) and returns it. */
async function refuse(reason, { taken = null, journal = true } = {}) {
  const current = getSession();
  const key = `${current?.account?.handle}|${reason}`;
  if (journal && current && !journalled.has(key)) {
    journalled.add(key);
    try {
      await postJson("/journal/refusals", { reason });
    } catch {
      // best effort: the person was told on this page
    }
  }
  return new Refused(reason, taken);
}

// --- digests (wallet/protocol/vault_state.py) -------------------------------------------------

const byFirst = (a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
const digest = (value) => sha256Hex(canonicalJson(value));

/** {document id: version} -> SHA-256 hex of the canonical JSON of the sorted [id, version]. */
export const documentsDigest = (documents) => digest(Object.entries(documents).sort(byFirst));
/** {slot: ciphertext sha256} -> the same over [slot, sha256]. */
export const profileDigest = (profile) => digest(Object.entries(profile).sort(byFirst));
/** ids -> the same over the sorted, deduplicated ids. */
export const idsDigest = (ids) => digest([...new Set(ids)].sort());

export async function stateDigests(state) {
  return {
    documents_sha256: await documentsDigest(state.documents),
    profile_sha256: await profileDigest(state.profile),
    revoked_grants_sha256: await idsDigest(state.revoked.grants),
    revoked_mandates_sha256: await idsDigest(state.revoked.mandates),
    revoked_links_sha256: await idsDigest(state.revoked.links),
  };
}

// --- pins ------------------------------------------------------------------------------------

const memory = new Map();
onWipe(() => memory.clear());

function usesMemory() {
  if (isKiosk()) return true;
  try {
    return !globalThis.localStorage;
  } catch {
    return true; // storage blocked by the browser's settings
  }
}

function readStore() {
  if (usesMemory()) return Object.fromEntries(memory);
  try {
    const data = JSON.parse(localStorage.getItem(STORAGE_KEY) || "{}");
    return data && typeof data.pins === "object" && data.pins ? data.pins : {};
  } catch {
    return {};
  }
}

function writeStore(slot, sealed) {
  if (hasLeft()) return;
  if (usesMemory()) {
    memory.set(slot, sealed);
    return;
  }
  try {
    const pins = readStore();
    pins[slot] = sealed;
    localStorage.setItem(STORAGE_KEY, JSON.stringify({ v: 1, pins }));
  } catch {
    // storage full or blocked: the checks still hold for this session, the pin is not kept
  }
}

const slotOf = (handle) => sha256Hex(infoBytes(LABELS.VAULT_HEAD_PIN, handle.trim().toLowerCase()));

async function pinKey(keys) {
  const raw = await hkdf(keys.vaultSecret, info(LABELS.VAULT_HEAD_PIN, "key"));
  return crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

const emptyPins = () => ({ own: null, owners: {} });

/** { own: {seq, sha256} | null, owners: {handle: {seq, sha256}} } of this account here. */
async function readPins(keys, handle) {
  const slot = await slotOf(handle);
  const sealed = readStore()[slot];
  if (typeof sealed !== "string") return emptyPins();
  try {
    const bytes = b64d(sealed);
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bytes.slice(0, NONCE_BYTES), additionalData: utf8(slot) },
      await pinKey(keys),
      bytes.slice(NONCE_BYTES),
    );
    const pins = JSON.parse(fromUtf8(new Uint8Array(plain)));
    return { own: pins.own ?? null, owners: pins.owners ?? {} };
  } catch {
    // Sealed by another account that had this name (deleted since): not ours to hold to.
    return emptyPins();
  }
}

async function writePins(keys, handle, pins) {
  const slot = await slotOf(handle);
  const nonce = randomBytes(NONCE_BYTES);
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: nonce, additionalData: utf8(slot) },
    await pinKey(keys),
    utf8(JSON.stringify({ v: 1, ...pins })),
  );
  writeStore(slot, b64e(concat(nonce, new Uint8Array(sealed))));
}

// One read-modify-write of the pins at a time in this tab.
let pinQueue = Promise.resolve();
function withPins(keys, handle, fn) {
  const run = pinQueue.then(async () => {
    const pins = await readPins(keys, handle);
    const result = await fn(pins);
    if (result?.write) await writePins(keys, handle, pins);
    return result?.value;
  });
  pinQueue = run.catch(() => undefined);
  return run;
}

/** "rewound" if `seen` is older than `pinned` (or the same seq with other bytes), else null. */
function behind(pinned, seen) {
  if (!pinned) return null;
  if (!seen) return "rewound";
  if (pinned.seq > seen.seq) return "rewound";
  if (pinned.seq === seen.seq && pinned.sha256 !== seen.sha256) return "rewound";
  return null;
}

/** Pins the own head (never backwards); null, or the reason to refuse. */
const pinOwn = (keys, handle, seen) =>
  withPins(keys, handle, (pins) => {
    const problem = behind(pins.own, seen);
    if (problem) return { value: problem };
    if (!seen || (pins.own && pins.own.seq === seen.seq)) return { value: null };
    pins.own = { seq: seen.seq, sha256: seen.sha256 };
    return { value: null, write: true };
  });

const pinOwner = (keys, handle, owner, seen) =>
  withPins(keys, handle, (pins) => {
    const problem = behind(pins.owners[owner], seen);
    if (problem) return { value: problem };
    if (!seen || pins.owners[owner]?.seq === seen.seq) return { value: null };
    pins.owners[owner] = { seq: seen.seq, sha256: seen.sha256 };
    return { value: null, write: true };
  });

// --- checking a signed head --------------------------------------------------------------------

/** The statement of a served { statement, signature }, signed by `signingKey`, or null. */
async function signedHead(served, signingKey, owner, ownerKeyId) {
  let bytes;
  let parsed;
  try {
    bytes = b64d(served.statement);
    verify(signingKey, bytes, b64d(served.signature));
    parsed = checkStatement(KIND.VAULT_HEAD, JSON.parse(fromUtf8(bytes)));
  } catch {
    return null;
  }
  if (parsed.owner !== owner || parsed.owner_key_id !== ownerKeyId || parsed.seq < 1) return null;
  return { statement: parsed, seq: parsed.seq, sha256: await sha256Hex(bytes) };
}

/** The own head as served, checked, pinned; null when the account has none yet. */
async function verifiedOwn(current, served) {
  const { keys, account } = current;
  if (!served?.head) {
    const problem = await pinOwn(keys, account.handle, null);
    if (problem) throw await refuse(problem);
    return null;
  }
  const head = await signedHead(served.head, keys.publicSigningKey, account.handle, await keys.keyId());
  if (!head) throw await refuse("unsigned"); // not signed by this owner's key (as in Python)
  // Before anything else: an older head than this device saw is a rewind, whatever it says.
  const pinned = (await readPins(keys, account.handle)).own;
  const problem = behind(pinned, head);
  if (problem) throw await refuse(problem);
  const profile = { ...(served.profile || {}) };
  const revoked = Object.fromEntries(REVOKED_KINDS.map((kind) => [kind, new Set(served.revoked?.[kind] || [])]));
  const s = head.statement;
  if (
    (await profileDigest(profile)) !== s.profile_sha256 ||
    (await idsDigest(revoked.grants)) !== s.revoked_grants_sha256 ||
    (await idsDigest(revoked.mandates)) !== s.revoked_mandates_sha256 ||
    (await idsDigest(revoked.links)) !== s.revoked_links_sha256
  ) {
    throw await refuse("changed");
  }
  const again = await pinOwn(keys, account.handle, head);
  if (again) throw await refuse(again);
  return { ...head, profile, revoked };
}

// --- the state the server shows, for a first head and for the next one -------------------------

// vault.js registers how it lists the documents, each current manifest checked against its
// signer (the owner, or the proxy of the mandate it names): { id, current_version,
// head_version, manifest }. (vault.js imports this module; this keeps the import one way.)
let documentRows = null;
export function setDocumentSource(fn) {
  documentRows = fn;
}

/** The listing against the head (rule 4 of the owner's head, see the top of this file). */
export async function checkDocuments(head, rows) {
  const covered = {};
  for (const row of rows) if (row.head_version != null) covered[row.id] = row.head_version;
  if ((await documentsDigest(covered)) !== head.statement.documents_sha256) throw await refuse("changed");
  for (const row of rows) await checkDocument(head, row);
}

/** One document (listing row or the single-document page) against the head. */
export async function checkDocument(head, row) {
  const { head_version: covered, current_version: current } = row;
  if (covered != null && current < covered) throw await refuse("changed"); // rolled back
  if (covered == null || current > covered) {
    // Only a trusted person, under a mandate the owner has not taken back, adds without the
    // owner's head; the owner's next change covers it.
    const mandateId = row.manifest?.mandate_id;
    if (!mandateId || head.revoked.mandates.has(String(mandateId))) throw await refuse("changed");
  }
}

/** The profile as served (rows with slot and ciphertext, base64url) against the head. */
export async function checkProfile(head, rows) {
  const served = {};
  for (const row of rows) served[row.slot] = await sha256Hex(b64d(row.ciphertext));
  const slots = Object.keys(served);
  if (
    slots.length !== Object.keys(head.profile).length ||
    slots.some((slot) => head.profile[slot] !== served[slot])
  ) {
    throw await refuse("changed");
  }
}

/**
 * Rows of /grants, /mandates or /links read against the head: each row the head lists as taken
 * back is marked `revokedByHead` (and shown ended, whatever `revoked_at` the server shows).
 * `revived`: the server showed one of them as still running (refuse with refusal("changed")
 * once what can safely be done is done).
 */
export function markRevoked(head, kind, rows) {
  const revoked = head.revoked[kind];
  let revived = false;
  const marked = rows.map((row) => {
    if (!revoked.has(row.id)) return { ...row, revokedByHead: false };
    if (row.revoked_at == null) revived = true;
    return { ...row, revokedByHead: true, state: "revoked", revoked_at: row.revoked_at ?? head.statement.signed_at };
  });
  return { rows: marked, revived };
}

/** Journals a refusal (best effort) and returns the Refused error to throw. */
export const refusal = (reason) => refuse(reason);

async function servedState() {
  const rows = await documentRows();
  const profile = {};
  for (const row of await getJson("/profile")) profile[row.slot] = await sha256Hex(b64d(row.ciphertext));
  const revoked = {};
  for (const kind of REVOKED_KINDS) {
    revoked[kind] = new Set((await getJson(`/${kind}`)).filter((row) => row.revoked_at != null).map((row) => row.id));
  }
  return { documents: Object.fromEntries(rows.map((row) => [row.id, row.current_version])), profile, revoked };
}

async function signHead(current, seq, state) {
  const { keys, account } = current;
  const value = statement(KIND.VAULT_HEAD, {
    owner: account.handle,
    owner_key_id: await keys.keyId(),
    seq,
    ...(await stateDigests(state)),
    signed_at: isoNowSeconds(),
  });
  const [message, signature] = sign(keys.signingSeed, value);
  return { message, signature, statement: value, seq, sha256: await sha256Hex(message) };
}

const isStale = (error) => error instanceof ApiError && error.status === 409 && error.code === STALE;

/** The first head: what the server shows now, on trust (nothing to compare it with yet). */
async function createFirst(current) {
  const state = await servedState();
  const head = await signHead(current, 1, state);
  await request("PUT", "/vault/head", {
    json: { statement: b64e(head.message), signature: b64e(head.signature) },
  });
  const problem = await pinOwn(current.keys, current.account.handle, head);
  if (problem) throw await refuse(problem);
  return { ...head, profile: state.profile, revoked: state.revoked };
}

// Head work of this tab runs one at a time (a page and the language hook may start at once).
let queue = Promise.resolve();
function serialised(fn) {
  const run = queue.then(fn, fn);
  queue = run.catch(() => undefined);
  return run;
}

async function freshOwnHead(current, { create = true } = {}) {
  let head = await verifiedOwn(current, await getJson("/vault/head"));
  if (head || !create) return head;
  try {
    head = await createFirst(current);
  } catch (error) {
    if (!isStale(error)) throw error;
    // Another page or device made the first head meanwhile: check that one.
    head = await verifiedOwn(current, await getJson("/vault/head"));
    if (!head) throw error;
  }
  return head;
}

/** The owner's head, fetched, checked and pinned (the first one made if there is none). */
export function ownHead() {
  const current = session();
  return serialised(() => freshOwnHead(current));
}

/** At login: the head checked and pinned, if there is one; none is made here (the first
 * listing or change makes it, where a document that does not check is shown as such). */
export function checkOwnHead() {
  const current = session();
  return serialised(() => freshOwnHead(current, { create: false }));
}

/**
 * A change the head covers. `change`: { documents: {id: version|null}, profile: {slot:
 * sha256|null}, revoke: { kind, id } }; `send(header)` makes the request with the next head
 * in the Wallet-Head header. A stale head (another device changed something meanwhile) is
 * fetched again and the change tried once more.
 */
export function coveredChange(change, send) {
  const current = session();
  return serialised(async () => {
    for (let attempt = 0; ; attempt++) {
      const head = await freshOwnHead(current);
      const rows = await documentRows();
      await checkDocuments(head, rows);
      const documents = Object.fromEntries(rows.map((row) => [row.id, row.current_version]));
      for (const [id, version] of Object.entries(change.documents || {})) {
        if (version === null) delete documents[id];
        else documents[id] = version;
      }
      const profile = { ...head.profile };
      for (const [slot, sha] of Object.entries(change.profile || {})) {
        if (sha === null) delete profile[slot];
        else profile[slot] = sha;
      }
      const revoked = Object.fromEntries(REVOKED_KINDS.map((kind) => [kind, new Set(head.revoked[kind])]));
      // An emergency reset revokes everything still open at once (web/src/pages/safety.js).
      for (const [kind, ids] of Object.entries(change.revokeAll || {})) {
        for (const id of ids) revoked[kind].add(id);
      }
      if (change.revoke) {
        const { kind, id } = change.revoke;
        revoked[kind].add(id);
        if (kind === "mandates") {
          // Ending a mandate stops the links made under it, in the same transaction.
          const mandate = (await getJson("/mandates")).find((row) => row.id === id);
          for (const link of mandate?.links || []) revoked.links.add(link);
        }
      }
      const next = await signHead(current, head.seq + 1, { documents, profile, revoked });
      let result;
      try {
        result = await send(`${b64e(next.message)}.${b64e(next.signature)}`);
      } catch (error) {
        if (isStale(error) && attempt === 0) continue;
        throw error;
      }
      const problem = await pinOwn(current.keys, current.account.handle, next);
      if (problem) throw await refuse(problem);
      return result;
    }
  });
}

// --- counterparts: a grantee, a proxy, a link's recipient --------------------------------------

/**
 * The owner's head as a grantee ("grants"), a proxy ("mandates") or a link's recipient
 * ("links") is shown it: { head, revoked } from the server, checked with the OWNER's signing
 * key (the one the caller already checks the owner's statements with). Refuses when this id is
 * among the revoked ones, when the list does not match the head, or (with an account here)
 * when the head is older than the one this device saw for this owner.
 */
export async function checkCounterpart(kind, id, served, { ownerHandle, ownerSigningKey, ownerKeyId }) {
  const current = getSession();
  const journal = !!current;
  if (served?.head) {
    const head = await signedHead(served.head, ownerSigningKey, ownerHandle, ownerKeyId);
    if (!head) throw await refuse("unsigned", { journal });
    if ((await idsDigest(served.revoked || [])) !== head.statement[`revoked_${kind}_sha256`]) {
      throw await refuse("changed", { journal });
    }
    if (current) {
      const problem = await pinOwner(current.keys, current.account.handle, ownerHandle, head);
      if (problem) throw await refuse(problem, { journal });
    }
  } else if (current) {
    const problem = await pinOwner(current.keys, current.account.handle, ownerHandle, null);
    if (problem) throw await refuse(problem, { journal });
  }
  if ((served?.revoked || []).includes(id)) throw await refuse("changed", { taken: kind, journal });
}

/**
 * The owner's head and listing as their emergency helper reads them (web/src/emergency.js),
 * like the Python client's owner vault: `served` is { head, profile, revoked } from
 * /emergency/{id}/vault/head, checked with the OWNER's signing key and pinned as the newest
 * head this device saw for that owner; `rows` (each current manifest already checked against
 * the owner's signature) must be exactly the documents the owner left.
 */
export async function checkOwnerListing(served, rows, { ownerHandle, ownerSigningKey, ownerKeyId }) {
  const current = getSession();
  if (!served?.head) throw await refuse("unsigned", { journal: false });
  const head = await signedHead(served.head, ownerSigningKey, ownerHandle, ownerKeyId);
  if (!head) throw await refuse("unsigned", { journal: false });
  const revoked = Object.fromEntries(REVOKED_KINDS.map((kind) => [kind, new Set(served.revoked?.[kind] || [])]));
  if ((await idsDigest(revoked.mandates)) !== head.statement.revoked_mandates_sha256) {
    throw await refuse("changed", { journal: false });
  }
  if (current) {
    const problem = await pinOwner(current.keys, current.account.handle, ownerHandle, head);
    if (problem) throw await refuse(problem, { journal: false });
  }
  const checked = { ...head, profile: { ...(served.profile || {}) }, revoked };
  await checkDocuments(checked, rows);
  return checked;
}
