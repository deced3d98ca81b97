// Document requests on the owner's side, like wallet/client/requests.py: open what a worker
// asked (sealed to us, signed by the worker, checked against the key pinned for that handle),
// suggest the owner's documents of the asked types (decrypted here), and answer in one step:
// a grant for what is given, then the owner-signed answer sealed to both, naming the grant.
import { getJson, postJson } from "./api.js";
import { b64d, b64e, fromUtf8, isoNowSeconds } from "./crypto/encoding.js";
import { sign, verify } from "./crypto/signing.js";
import { keyId, openSealed, seal } from "./crypto/wrap.js";
import { DOCUMENT_TYPES } from "./catalogue.js";
import { infoBytes, KIND, LABELS, statement } from "./protocol.js";
import { checkPin, createGrant, KeyChanged, revokeGrant } from "./grants.js";
import { isoUtc } from "./links.js";
import { getSession } from "./session.js";
import { PlainError } from "./ui.js";
import { listDocuments } from "./vault.js";

// The social-inquiry rhythm: the notification comes at most 8 days after the decision.
export const NOTIFICATION_DAYS = 8;
export const MAX_TEXT = 2000;
const DAY = 24 * 60 * 60 * 1000;

export const requestInfo = (id, recipientKeyId) => infoBytes(LABELS.REQUEST, id, recipientKeyId);
export const answerInfo = (id, recipientKeyId) => infoBytes(LABELS.REQUEST_ANSWER, id, recipientKeyId);

/** Something sealed or signed does not check out: never shown, never answered. */
export class RequestChanged extends PlainError {
  constructor(key = "requests.changed") {
    super(key);
  }
}

function session() {
  const current = getSession();
  if (!current) throw new PlainError("errors.locked");
  return current;
}

/** Opens what was sealed for this account; the raw signed bytes, or RequestChanged. */
export async function openForMe(keys, info, sealed, Changed = RequestChanged) {
  try {
    return await openSealed(await keys.encryptionKey(), b64d(sealed), info);
  } catch {
    throw new Changed();
  }
}

/** Like signing_key_of: my own key for me; anyone else's key as pinned for their handle. */
export async function signingKeyOf(party, Changed = RequestChanged) {
  const { keys, account } = session();
  if (party.handle === account.handle) {
    if (party.key_id !== (await keys.keyId())) throw new KeyChanged("grant.key_changed", { handle: party.handle });
    return keys.publicSigningKey;
  }
  if ((await keyId(b64d(party.public_encryption_key))) !== party.key_id) throw new Changed();
  await checkPin(party.handle, party); // a different key for a known handle: KeyChanged
  return b64d(party.public_signing_key);
}

function checkSignature(publicKey, message, signature) {
  try {
    verify(publicKey, message, b64d(signature || ""));
  } catch {
    throw new RequestChanged();
  }
}

/** "YYYY-MM-DD" + n days, as "YYYY-MM-DD" (calendar days, UTC, like date + timedelta). */
export function addDays(day, n) {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);
}

export const defaultGrantEnd = (due) => addDays(due, NOTIFICATION_DAYS);
const endOfDay = (day) => new Date(`${day}T23:59:00Z`);
const today = () => new Date().toISOString().slice(0, 10);

/** One row of GET /requests, checked like open_request. Never trusts the server. */
export async function openRequest(row) {
  const { keys } = session();
  const message = await openForMe(keys, requestInfo(row.id, await keys.keyId()), row.sealed);
  checkSignature(await signingKeyOf(row.requester), message, row.signature);
  let asked;
  try {
    asked = JSON.parse(fromUtf8(message));
  } catch {
    throw new RequestChanged();
  }
  if (
    asked.kind !== KIND.DOCUMENT_REQUEST ||
    asked.request_id !== row.id ||
    asked.requester !== row.requester.handle ||
    asked.requester_key_id !== row.requester.key_id ||
    asked.owner !== row.owner.handle ||
    asked.owner_key_id !== row.owner.key_id ||
    String(row.due_at).slice(0, 10) !== asked.due ||
    !/^\d{4}-\d{2}-\d{2}$/.test(asked.due || "")
  ) {
    throw new RequestChanged();
  }
  const asList = Array.isArray(asked.types) ? asked.types.map(String) : [];
  let answer = null;
  if (row.answer) {
    const answerBytes = await openForMe(keys, answerInfo(row.id, await keys.keyId()), row.answer);
    checkSignature(await signingKeyOf(row.owner), answerBytes, row.answer_signature);
    try {
      answer = JSON.parse(fromUtf8(answerBytes));
    } catch {
      throw new RequestChanged();
    }
    const statusOk = answer.status === row.status || row.status === "closed";
    if (
      answer.kind !== KIND.REQUEST_ANSWER ||
      answer.request_id !== row.id ||
      (answer.grant_id ?? null) !== (row.grant_id ?? null) ||
      !statusOk
    ) {
      throw new RequestChanged();
    }
  } else if (row.status !== "open" && row.status !== "closed") {
    throw new RequestChanged(); // an answered status with no signed answer
  }
  return {
    id: row.id,
    direction: row.direction,
    status: row.status,
    owner: row.owner.handle,
    requester: row.requester.handle,
    purpose: String(asked.purpose ?? ""),
    // Types the catalogue does not know are left out: they may come from a newer client.
    types: asList.filter((type) => type in DOCUMENT_TYPES),
    ignoredTypes: asList.filter((type) => !(type in DOCUMENT_TYPES)),
    message: String(asked.message ?? ""),
    due: asked.due,
    createdAt: row.created_at,
    grantId: row.grant_id ?? null,
    answer,
    requesterKeys: row.requester,
  };
}

/** Every request (incoming and outgoing), each checked; the newest first. */
export async function listRequests() {
  const result = [];
  for (const row of await getJson("/requests")) result.push(await openRequest(row));
  return result.sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)));
}

/** The owner's documents of the asked types (titles and types decrypted in this browser). */
export async function suggestDocuments(request, documents = null) {
  const wanted = new Set(request.types);
  return (documents ?? (await listDocuments())).filter((d) => wanted.has(d.meta.type));
}

/** Fetched and checked again just before answering, like _incoming. */
async function incoming(requestId) {
  const request = await openRequest(await getJson(`/requests/${requestId}`));
  if (request.direction !== "incoming") throw new PlainError("requests.not_yours");
  if (request.status !== "open") throw new PlainError("requests.already_answered");
  return request;
}

function checkReason(reason) {
  const text = (reason || "").trim();
  if (text.length > MAX_TEXT) throw new PlainError("requests.reason_long", { n: MAX_TEXT });
  return text;
}

async function sendAnswer(request, { status, grantId, given, refused, reason, documents, grantExpiresAt }) {
  const { keys, account } = session();
  const answer = statement(KIND.REQUEST_ANSWER, {
    request_id: request.id,
    owner: account.handle,
    requester: request.requester,
    status,
    grant_id: grantId,
    given,
    refused,
    reason,
    documents,
    grant_expires_at: grantExpiresAt ? isoUtc(grantExpiresAt) : null,
    answered_at: isoNowSeconds(),
  });
  const [message, signature] = sign(keys.signingSeed, answer);
  const requester = request.requesterKeys;
  await postJson(`/requests/${request.id}/answer`, {
    status,
    grant_id: grantId,
    answer_for_owner: b64e(await seal(keys.publicEncryptionKey, message, answerInfo(request.id, await keys.keyId()))),
    answer_for_requester: b64e(
      await seal(b64d(requester.public_encryption_key), message, answerInfo(request.id, requester.key_id)),
    ),
    answer_signature: b64e(signature),
  });
}

/**
 * Like fulfil: one action. A grant for every document of the types given (or the chosen ids),
 * until `expires` ("YYYY-MM-DD", by default the due date + 8 days), then the signed answer
 * naming it. If the answer does not go through, the grant is ended again.
 */
export async function fulfil(requestId, { refuseTypes = [], documentIds = null, expires = null, reason = "" } = {}) {
  const request = await incoming(requestId);
  const why = checkReason(reason);
  const saidNo = new Set(refuseTypes);
  for (const type of saidNo) if (!request.types.includes(type)) throw new PlainError("requests.not_asked");
  const documents = await listDocuments();
  const byId = new Map(documents.map((d) => [d.id, d]));
  let chosen;
  if (documentIds && documentIds.length) {
    for (const id of documentIds) {
      if (!byId.has(id)) throw new PlainError("errors.not_found");
      if (saidNo.has(byId.get(id).meta.type)) throw new PlainError("requests.give_and_refuse");
    }
    chosen = [...new Set(documentIds)].sort();
  } else {
    const wanted = new Set(request.types.filter((type) => !saidNo.has(type)));
    chosen = documents.filter((d) => wanted.has(d.meta.type)).map((d) => d.id).sort();
  }
  if (!chosen.length) throw new PlainError("requests.nothing_to_give");
  const end = expires || defaultGrantEnd(request.due);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(end)) throw new PlainError("share.bad_expiry");
  if (end < today()) throw new PlainError("requests.expiry_past");
  const expiresAt = endOfDay(end);
  const givenTypes = new Set(chosen.map((id) => byId.get(id).meta.type));
  const given = request.types.filter((type) => givenTypes.has(type)).sort();
  const refused = request.types.filter((type) => !givenTypes.has(type)).sort();
  const status = refused.length ? "partly_fulfilled" : "fulfilled";
  // The purpose as the worker wrote it, in their language: no English label in front of it.
  const grant = await createGrant(request.requester, { ids: chosen }, { purpose: request.purpose, expiresAt });
  try {
    await sendAnswer(request, {
      status,
      grantId: grant.id,
      given,
      refused,
      reason: why,
      documents: grant.documents,
      grantExpiresAt: expiresAt,
    });
  } catch (error) {
    // No access must stay behind without the answer that explains it.
    await revokeGrant(grant.id).catch(() => undefined);
    throw error;
  }
  return { requestId: request.id, grantId: grant.id, status, given, refused, documents: grant.documents, expiresAt };
}

/** Says no to the whole request, with an optional reason. */
export async function refuse(requestId, { reason = "" } = {}) {
  const request = await incoming(requestId);
  await sendAnswer(request, {
    status: "refused",
    grantId: null,
    given: [],
    refused: [...request.types],
    reason: checkReason(reason),
    documents: 0,
    grantExpiresAt: null,
  });
}

/** Done (or withdrawn): the access the request gave ends at once. */
export async function closeRequest(requestId) {
  return postJson(`/requests/${requestId}/close`, {});
}

// --- the worker's side: asking ------------------------------------------------------------

export const MAX_TYPES = 40;
export const MAX_DUE_DAYS = 365;

/** check_types: the asked types, cleaned; an unknown type is refused. */
export function checkTypes(types) {
  const cleaned = [...new Set(types.map((x) => String(x).trim().toLowerCase()).filter(Boolean))].sort();
  if (!cleaned.length) throw new PlainError("request_new.types_needed");
  if (cleaned.length > MAX_TYPES) throw new PlainError("request_new.too_many_types", { n: MAX_TYPES });
  for (const type of cleaned) if (!(type in DOCUMENT_TYPES)) throw new PlainError("request_new.type_unknown");
  return cleaned;
}

/**
 * create_request: the worker asks a person for documents. The descriptor is signed by the
 * worker and sealed to the person and to the worker. The caller showed the person's safety code
 * (grants.lookupPerson) and the worker confirmed it; this pins the key (KeyChanged otherwise).
 * Returns { id, owner, due }.
 */
export async function createRequest(person, { types, purpose, due = null, message = "" }) {
  const { keys, account } = session();
  const wanted = checkTypes(types);
  const cleanPurpose = String(purpose || "").trim();
  if (!cleanPurpose) throw new PlainError("request_new.purpose_needed");
  const cleanMessage = String(message || "").trim();
  if (cleanPurpose.length > MAX_TEXT || cleanMessage.length > MAX_TEXT) throw new PlainError("request_new.too_long", { n: MAX_TEXT });
  const day = due || addDays(today(), 30);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new PlainError("request_new.due_needed");
  if (day < today()) throw new PlainError("request_new.due_past");
  if (day > addDays(today(), MAX_DUE_DAYS)) throw new PlainError("request_new.due_far"); // the server's limit
  const owner = person.keys;
  if (owner.handle === account.handle) throw new PlainError("request_new.not_yourself");
  await checkPin(owner.handle, owner);
  const requestId = crypto.randomUUID().replaceAll("-", "");
  const descriptor = statement(KIND.DOCUMENT_REQUEST, {
    request_id: requestId,
    requester: account.handle,
    requester_key_id: await keys.keyId(),
    owner: owner.handle,
    owner_key_id: owner.key_id,
    purpose: cleanPurpose,
    types: wanted,
    message: cleanMessage,
    due: day,
    created_at: isoNowSeconds(),
  });
  const [signed, signature] = sign(keys.signingSeed, descriptor);
  await postJson("/requests", {
    request_id: requestId,
    owner_handle: owner.handle,
    owner_key_id: owner.key_id,
    sealed_for_owner: b64e(await seal(b64d(owner.public_encryption_key), signed, requestInfo(requestId, owner.key_id))),
    sealed_for_requester: b64e(await seal(keys.publicEncryptionKey, signed, requestInfo(requestId, await keys.keyId()))),
    signature: b64e(signature),
    due_at: isoUtc(endOfDay(day)),
  });
  return { id: requestId, owner: owner.handle, due: day };
}
