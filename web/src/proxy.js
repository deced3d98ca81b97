// Mandates (proxies) in the browser, like wallet/client/mandates.py: the owner sees the
// mandates they gave and ends them; the proxy sees the mandates they received and acts for the
// owner inside one of them. Everything sealed is opened here and checked against the owner's
// signatures (descriptor, plain terms, each document's wrap statement and manifest).
//
// While someone acts for another person, a banner says so on every page, until they stop:
// it sits outside <header> and <main>, which soft navigation swaps, so it cannot disappear
// by moving around. A reload forgets the acting state (and the keys) altogether.
import { getJson, postJson, request } from "./api.js";
import { DOCUMENT_TYPES } from "./catalogue.js";
import { b64d, b64e, fromUtf8, isoNowSeconds, randomBytes, sha256Hex, utf8 } from "./crypto/encoding.js";
import { sign, verify } from "./crypto/signing.js";
import { documentKeyInfo, keyId, openSealed, seal } from "./crypto/wrap.js";
import { checkPin, lookupPerson } from "./grants.js";
import { formatDate, loadMessages, t } from "./i18n.js";
import { onWipe } from "./kiosk.js";
import { infoBytes, KIND, LABELS, PROCEDURE_CATEGORIES, statement } from "./protocol.js";
import { getSession, onSessionChange } from "./session.js";
import { downloadBlob, uploadBlob, WrongSize } from "./tus.js";
import { PlainError } from "./ui.js";
import { createProxyLink, isoUtc } from "./links.js";
import { encryptFile, listDocuments, META_VERSION, safeMediaType } from "./vault.js";
import { checkCounterpart, coveredChange, HEADER, markRevoked, ownHead, refusal, Refused } from "./vaulthead.js";

export class MandateChanged extends PlainError {
  constructor() {
    super("proxy.changed");
  }
}

const mandateInfo = (id, keyId) => infoBytes(LABELS.MANDATE, id, keyId);

function session() {
  const current = getSession();
  if (!current) throw new PlainError("errors.locked");
  return current;
}

/** The sealed descriptor and the plain terms, both signed by the owner, and consistent. */
async function openDescriptor(keys, mandate, ownerSigningKey) {
  let descriptor;
  let terms;
  try {
    const message = await openSealed(await keys.encryptionKey(), b64d(mandate.sealed), mandateInfo(mandate.id, await keys.keyId()));
    verify(ownerSigningKey, message, b64d(mandate.signature));
    const authorisation = b64d(mandate.authorisation);
    verify(ownerSigningKey, authorisation, b64d(mandate.authorisation_signature));
    descriptor = JSON.parse(fromUtf8(message));
    terms = JSON.parse(fromUtf8(authorisation));
  } catch {
    throw new MandateChanged();
  }
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  if (
    descriptor.mandate_id !== mandate.id ||
    terms.mandate_id !== mandate.id ||
    !["actions", "expires_at", "mandate_kind"].every((k) => same(descriptor[k], terms[k])) ||
    terms.proxy_key_id !== descriptor.proxy_key_id ||
    !same(terms.actions, mandate.actions) ||
    terms.mandate_kind !== mandate.kind
  ) {
    throw new MandateChanged();
  }
  return descriptor;
}

/** Mandates this owner gave, newest first, each opened and checked. */
export async function mandatesGiven() {
  const { keys } = session();
  const result = [];
  for (const mandate of await getJson("/mandates")) {
    result.push({ ...mandate, descriptor: await openDescriptor(keys, mandate, keys.publicSigningKey) });
  }
  return result.reverse();
}

/**
 * mandatesGiven read against the owner's signed head (for the pages): a mandate the head lists
 * as taken back is shown ended whatever the server says; `refused` holds the refusal to show
 * if the server showed one as running again. (mandatesGiven itself stays as served: the
 * documents listing uses it to find the key each proxy signs with, inside the head's own work.)
 */
export async function mandatesGivenChecked() {
  const head = await ownHead();
  const given = await mandatesGiven();
  const { rows, revived } = markRevoked(head, "mandates", given);
  rows.refused = revived ? await refusal("changed") : null;
  return rows;
}

/** Active mandates given to this account, each checked against its owner's signature. */
export async function mandatesReceived() {
  const { keys } = session();
  const result = [];
  for (const mandate of await getJson("/mandates/received")) {
    await checkPin(mandate.owner.handle, mandate.owner);
    const descriptor = await openDescriptor(keys, mandate, b64d(mandate.owner.public_signing_key));
    if (descriptor.proxy_key_id !== (await keys.keyId())) throw new MandateChanged();
    result.push({ ...mandate, descriptor });
  }
  return result;
}

const ORDER = ["view", "upload", "share"];

/** Who may do what, until when and for what, in plain words (like plain_terms). */
export function termsOf(descriptor) {
  const actions = ORDER.filter((a) => descriptor.actions.includes(a)).map((a) => t(`proxy.action.${a}`));
  const covers = descriptor.scope.categories.map((c) => t(`categories.${c}`));
  if (descriptor.scope.documents.length) covers.push(t("proxy.chosen_documents", { n: descriptor.scope.documents.length }));
  const until = formatDate(descriptor.expires_at);
  return {
    what: t("proxy.what", { actions: actions.join(", "), covers: covers.join(", ") || "—" }),
    until: descriptor.mandate_kind === "once" ? t("proxy.once_until", { date: until }) : t("proxy.until", { date: until }),
    why: t("proxy.purpose", { purpose: descriptor.purpose }),
  };
}

// --- giving a mandate (create_mandate) --------------------------------------------------------

export const ACTIONS = ["view", "upload", "share"];
// Procedure categories (generated from wallet/protocol/catalogue.py), never "all".
export { PROCEDURE_CATEGORIES };
const HOUR = 3_600_000;
// duration -> [kind, how long]. A one-shot mandate ends after the first completed action, or
// after 24 hours, whichever comes first.
export const DURATIONS = {
  once: ["once", 24 * HOUR],
  "1d": ["personal", 24 * HOUR],
  "1m": ["personal", 30 * 24 * HOUR],
  "6m": ["personal", 182 * 24 * HOUR],
  "1y": ["personal", 365 * 24 * HOUR],
};

const mandateCategoryOf = (type) => DOCUMENT_TYPES[type] ?? "other";

function inScope(descriptor, documentId, type) {
  const { scope } = descriptor;
  return scope.documents.includes(documentId) || scope.categories.includes(mandateCategoryOf(type));
}

/** parse_scope: procedure categories only, never "all". */
export function parseScope(categories) {
  const chosen = [];
  for (const raw of categories) {
    const name = raw.trim().toLowerCase();
    if (["all", "*", "everything"].includes(name)) throw new PlainError("mandate.not_everything");
    if (!PROCEDURE_CATEGORIES.includes(name)) throw new PlainError("mandate.bad_category");
    if (!chosen.includes(name)) chosen.push(name);
  }
  return chosen.sort();
}

/** parse_actions: view, upload, share; sharing needs view. */
export function parseActions(actions) {
  if (!actions.length) throw new PlainError("mandate.actions_needed");
  if (actions.some((a) => !ACTIONS.includes(a))) throw new PlainError("mandate.actions_needed");
  if (actions.includes("share") && !actions.includes("view")) throw new PlainError("mandate.share_needs_view");
  return [...new Set(actions)].sort();
}

/** The signed manifest bytes of each document's current version, as listed (_manifests). */
async function currentManifests() {
  const result = new Map();
  let cursor = null;
  do {
    const query = new URLSearchParams({ limit: "1000", ...(cursor ? { cursor } : {}) });
    const listed = await getJson(`/documents?${query}`);
    for (const row of listed.documents) result.set(row.id, b64d(row.manifest));
    cursor = listed.next_cursor;
  } while (cursor);
  return result;
}

/** _wrap_for: a version's key sealed to the proxy, with the owner's statement binding it to
 * this mandate and to the version's manifest. */
async function mandateWrap(keys, head, mandateId, proxy, documentId, version, identity, manifestBytes) {
  // Never for a mandate the owner took back (the signed head says so), whatever the server shows.
  if (head.revoked.mandates.has(mandateId)) throw new Refused("changed");
  const wrapped = await seal(b64d(proxy.public_encryption_key), utf8(identity), documentKeyInfo(documentId, version, proxy.key_id));
  const [signed, signature] = sign(
    keys.signingSeed,
    statement(KIND.MANDATE_WRAP, {
      mandate_id: mandateId,
    document_id: documentId,
    version,
    wrap_sha256: await sha256Hex(wrapped),
    manifest_sha256: await sha256Hex(manifestBytes),
    }),
  );
  return {
    document_id: documentId,
    version,
    wrapped_key: b64e(wrapped),
    statement: b64e(signed),
    statement_signature: b64e(signature),
  };
}

/**
 * create_mandate: the owner signs the plain authorisation (enforced by the server) and the
 * sealed descriptor (purpose, scope, check code); the keys of documents in scope are sealed to
 * the proxy if they may see them. The caller has shown the proxy's safety code (lookupPerson)
 * and the owner confirmed it; this pins the key. Returns { id, proxy, kind, actions,
 * expiresAt, documents, safetyCode, firstContact, checkCode, descriptor }.
 */
export async function createMandate(handle, { categories = [], documentIds = [], actions = [], duration, purpose = "" }) {
  const { keys, account } = session();
  if (!purpose.trim()) throw new PlainError("mandate.purpose_needed");
  if (!DURATIONS[duration]) throw new PlainError("mandate.duration_needed");
  const [kind, length] = DURATIONS[duration];
  const chosenCategories = parseScope(categories);
  const chosenActions = parseActions(actions);
  const documents = await listDocuments();
  const byId = new Map(documents.map((d) => [d.id, d]));
  const chosenDocuments = [...new Set(documentIds)].sort();
  for (const id of chosenDocuments) if (!byId.has(id)) throw new PlainError("errors.not_found");
  if (!chosenCategories.length && !chosenDocuments.length) throw new PlainError("mandate.scope_needed");
  if (handle.trim().toLowerCase() === account.handle) throw new PlainError("mandate.not_yourself");
  const person = await lookupPerson(handle);
  const proxy = person.keys;
  const first = await checkPin(proxy.handle, proxy);
  const mandateId = crypto.randomUUID().replaceAll("-", "");
  const created = new Date();
  const expiresAt = new Date(Math.floor((created.getTime() + length) / 1000) * 1000);
  const checkCode = b64e(randomBytes(16));
  const terms = {
    mandate_id: mandateId,
    owner_key_id: await keys.keyId(),
    proxy_key_id: proxy.key_id,
    proxy_signing_key: proxy.public_signing_key,
    actions: chosenActions,
    mandate_kind: kind,
    expires_at: isoUtc(expiresAt),
  };
  const authorisation = statement(KIND.MANDATE_AUTHORISATION, terms);
  const descriptor = statement(KIND.MANDATE, {
    ...terms,
    owner: account.handle,
    proxy: proxy.handle,
    proxy_encryption_key: proxy.public_encryption_key,
    purpose: purpose.trim(),
    scope: { categories: chosenCategories, documents: chosenDocuments },
    created_at: isoUtc(created),
    check_code: checkCode,
  });
  const [authorisationBytes, authorisationSignature] = sign(keys.signingSeed, authorisation);
  const [message, signature] = sign(keys.signingSeed, descriptor);
  const wraps = [];
  if (chosenActions.includes("view")) {
    const head = await ownHead();
    const manifests = await currentManifests();
    for (const doc of documents) {
      if (!inScope(descriptor, doc.id, doc.meta.type) || !manifests.has(doc.id)) continue;
      wraps.push(await mandateWrap(keys, head, mandateId, proxy, doc.id, doc.version, doc.identity, manifests.get(doc.id)));
    }
  }
  await postJson("/mandates", {
    mandate_id: mandateId,
    proxy_handle: proxy.handle,
    proxy_key_id: proxy.key_id,
    kind,
    actions: chosenActions,
    expires_at: isoUtc(expiresAt),
    authorisation: b64e(authorisationBytes),
    authorisation_signature: b64e(authorisationSignature),
    sealed_for_owner: b64e(await seal(keys.publicEncryptionKey, message, mandateInfo(mandateId, await keys.keyId()))),
    sealed_for_proxy: b64e(await seal(b64d(proxy.public_encryption_key), message, mandateInfo(mandateId, proxy.key_id))),
    signature: b64e(signature),
    check_hash: await sha256Hex(utf8(checkCode)),
    wraps,
  });
  return {
    id: mandateId,
    proxy: proxy.handle,
    kind,
    actions: chosenActions,
    expiresAt,
    documents: wraps.length,
    safetyCode: person.code,
    firstContact: first,
    checkCode,
    descriptor,
  };
}

export const checkUrl = (mandateId, checkCode, origin = location.origin) =>
  `${origin}/mandates/check/${mandateId}?c=${checkCode}`;

/** Who may do what, until when and for what, for the attestation (plain_terms). */
export function attestationTerms(descriptor) {
  const terms = termsOf(descriptor);
  return {
    title: t(descriptor.mandate_kind === "once" ? "mandate.title_once" : "mandate.title_personal"),
    who: t("mandate.who", { proxy: descriptor.proxy, owner: descriptor.owner }),
    what: terms.what,
    until: terms.until,
    why: terms.why,
    never: t("mandate.never"),
    signed: t("mandate.signed", { owner: descriptor.owner, date: descriptor.created_at.slice(0, 10), id: descriptor.mandate_id }),
    check: t("mandate.check_how"),
    checkSays: t("mandate.check_says"),
  };
}

const escapeHtml = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;" })[c]);

/**
 * attestation_html: a printable, self-contained page (no script) with an inline SVG QR code of
 * the check URL, drawn in this browser. In the page's language.
 */
export async function attestationHtml(descriptor, origin = location.origin) {
  const { default: qrcode } = await import("qrcode-generator");
  const url = checkUrl(descriptor.mandate_id, descriptor.check_code, origin);
  const qr = qrcode(0, "M");
  qr.addData(url);
  qr.make();
  const svg = qr.createSvgTag({ cellSize: 4, margin: 8, scalable: false });
  const terms = attestationTerms(descriptor);
  const rows = ["who", "what", "until", "why"].map((k) => `<p>${escapeHtml(terms[k])}</p>`).join("");
  const lang = escapeHtml(document.documentElement.lang || "en");
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(terms.title)} ${escapeHtml(descriptor.mandate_id.slice(0, 8))}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;
font-size:1.15rem;line-height:1.5}h1{font-size:1.6rem}.qr{float:right;margin:0 0 1rem 1rem}
.small{font-size:.9rem;color:#333}@media print{body{margin:1cm}}</style></head><body>
<div class="qr">${svg}</div>
<h1>${escapeHtml(terms.title)}</h1>
${rows}
<p>${escapeHtml(terms.never)}</p>
<p>${escapeHtml(terms.signed)}</p>
<p class="small">${escapeHtml(terms.check)}<br>
${escapeHtml(url)}<br>${escapeHtml(terms.checkSays)}</p>
</body></html>
`;
}

export const revokeMandate = (id) =>
  coveredChange({ revoke: { kind: "mandates", id } }, (header) =>
    request("POST", `/mandates/${id}/revoke`, { headers: { [HEADER]: header } }),
  );
export const renounceMandate = (id) => request("POST", `/mandates/${id}/renounce`);

// --- acting for someone ---------------------------------------------------------------------

let acting = null; // { mandate, acted }
let banner = null;

export const actingFor = () => acting;

function drawBanner() {
  if (!acting) {
    banner?.remove();
    banner = null;
    return;
  }
  if (!banner || !banner.isConnected) {
    banner = document.createElement("div");
    banner.className = "proxy-banner";
    banner.setAttribute("role", "region");
    banner.dataset.proxyBanner = "";
    const text = document.createElement("p");
    const links = document.createElement("p");
    const back = document.createElement("a");
    const stop = document.createElement("button");
    stop.type = "button";
    stop.dataset.stopActing = "";
    stop.addEventListener("click", async () => {
      await stopActing();
      const { navigate } = await import("./shell.js");
      navigate("/proxy");
    });
    links.append(back, " ", stop);
    banner.append(text, links);
    const header = document.querySelector("header.site-header");
    if (header) header.before(banner);
    else document.body.prepend(banner);
  }
  const owner = acting.mandate.owner.handle;
  banner.setAttribute("aria-label", t("proxy.banner_label"));
  // Outside the acting pages the page shows the proxy's own wallet: say so, never blur the two.
  const page = document.querySelector("main[data-page]")?.dataset.page;
  const here = page === "proxy_for" ? "" : ` ${t("proxy.banner_own_page")}`;
  banner.querySelector("p").textContent = t("proxy.banner", { owner }) + here;
  const back = banner.querySelector("a");
  back.href = `/proxy/for/${acting.mandate.id}`;
  back.textContent = t("proxy.banner_back", { owner });
  banner.querySelector("[data-stop-acting]").textContent = t("proxy.stop");
}

export function startActing(mandate) {
  if (acting?.mandate.id !== mandate.id) acting = { mandate, acted: false };
  drawBanner();
}

export const refreshProxyBanner = drawBanner;

/** Stops acting; a one-time mandate that was used is reported done (like the CLI). */
export async function stopActing() {
  const was = acting;
  acting = null;
  drawBanner();
  if (was?.acted && was.mandate.kind === "once" && getSession()) {
    try {
      await request("POST", `/mandates/${was.mandate.id}/complete`);
    } catch {
      // already ended: nothing more to do
    }
  }
}

onSessionChange((current) => {
  if (!current && acting) {
    acting = null;
    drawBanner();
  }
});
onWipe(() => {
  acting = null;
  drawBanner();
});

/** One document item of the mandate, checked like ProxyVault._check_item. */
async function checkItem(keys, mandate, item) {
  const ownerKey = b64d(mandate.owner.public_signing_key);
  const wrapped = b64d(item.wrapped_key);
  const manifestBytes = b64d(item.manifest);
  const encryptedMeta = b64d(item.encrypted_meta);
  let manifest;
  try {
    if (item.statement) {
      const statementBytes = b64d(item.statement);
      verify(ownerKey, statementBytes, b64d(item.statement_signature));
      const statement = JSON.parse(fromUtf8(statementBytes));
      if (
        statement.kind !== KIND.MANDATE_WRAP ||
        statement.mandate_id !== mandate.id ||
        statement.document_id !== item.document_id ||
        statement.version !== item.version ||
        statement.wrap_sha256 !== (await sha256Hex(wrapped)) ||
        statement.manifest_sha256 !== (await sha256Hex(manifestBytes))
      ) {
        throw new Error("statement");
      }
      manifest = JSON.parse(fromUtf8(manifestBytes));
    } else {
      // A document this proxy added itself: its own signed manifest lists its wrap.
      verify(keys.publicSigningKey, manifestBytes, b64d(item.signature));
      manifest = JSON.parse(fromUtf8(manifestBytes));
      const keyId = await keys.keyId();
      const sha = await sha256Hex(wrapped);
      if (manifest.mandate_id !== mandate.id || !(manifest.wraps || []).some((w) => w.key_id === keyId && w.sha256 === sha)) {
        throw new Error("not ours");
      }
    }
    if (
      manifest.document_id !== item.document_id ||
      manifest.version !== item.version ||
      manifest.meta_sha256 !== (await sha256Hex(encryptedMeta))
    ) {
      throw new Error("manifest");
    }
    const info = documentKeyInfo(item.document_id, item.version, await keys.keyId());
    const identity = fromUtf8(await openSealed(await keys.encryptionKey(), wrapped, info));
    const age = await import("./crypto/age.js");
    const meta = JSON.parse(fromUtf8(await age.decryptBytes(encryptedMeta, identity)));
    return { id: item.document_id, version: item.version, meta, identity, manifest };
  } catch {
    throw new MandateChanged();
  }
}

/**
 * The owner's signed head, as this proxy is shown it: refuses to act under a mandate the owner
 * took back (vaulthead.checkCounterpart), whatever the server says of it.
 */
export async function checkMandateHead(mandate) {
  await checkCounterpart("mandates", mandate.id, await getJson(`/mandates/${mandate.id}/head`), {
    ownerHandle: mandate.owner.handle,
    ownerSigningKey: b64d(mandate.owner.public_signing_key),
    ownerKeyId: mandate.descriptor.owner_key_id,
  });
}

/** The newest version of each document the mandate lets the proxy see. */
export async function actingDocuments() {
  const { keys } = session();
  if (!acting) throw new PlainError("proxy.not_acting");
  const { mandate } = acting;
  await checkMandateHead(mandate);
  const latest = new Map();
  for (const item of await getJson(`/mandates/${mandate.id}/documents`)) {
    const doc = await checkItem(keys, mandate, item);
    if ((latest.get(doc.id)?.version ?? 0) < doc.version) latest.set(doc.id, doc);
  }
  return [...latest.values()];
}

/** Downloads, checks (signed size and hash) and decrypts one document for the owner. */
export async function actingBlob(doc, { signal } = {}) {
  if (!acting) throw new PlainError("proxy.not_acting");
  const { mandate } = acting;
  const path = `/mandates/${mandate.id}/documents/${doc.id}/versions/${doc.version}/blob`;
  let downloaded;
  try {
    downloaded = await downloadBlob(path, Number(doc.manifest.blob_size), { signal });
  } catch (error) {
    if (error instanceof WrongSize) throw new PlainError("errors.file_damaged");
    throw error;
  }
  if (downloaded.digest !== doc.manifest.blob_sha256) throw new PlainError("errors.file_damaged");
  acting.acted = true;
  const age = await import("./crypto/age.js");
  try {
    const plain = await age.decryptStream(new Blob(downloaded.chunks).stream(), doc.identity);
    const parts = [];
    const reader = plain.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
    }
    return new Blob(parts, { type: safeMediaType(doc.meta.media_type) });
  } catch {
    throw new PlainError("errors.file_damaged");
  }
}

/**
 * A one-shot link for the owner's documents `ids` (create_link with a ProxyVault): only
 * documents the mandate gives, checked like the listing; the proxy signs, with the owner's
 * signed authorisation. A one-time mandate counts as used.
 */
export async function actingShare(ids, { purpose = "", pin = null } = {}) {
  if (!acting) throw new PlainError("proxy.not_acting");
  const { mandate } = acting;
  if (!mandate.actions.includes("share")) throw new PlainError("proxy.cannot_share");
  const given = new Map((await actingDocuments()).map((doc) => [doc.id, doc]));
  const chosen = [...new Set(ids)].map((id) => given.get(id));
  if (chosen.some((doc) => !doc)) throw new PlainError("proxy.not_in_scope");
  acting.acted = true;
  return createProxyLink(mandate, chosen, { purpose, pin });
}

/** True if the mandate lets the proxy add a document of this type (its category is in scope). */
export function mayAdd(type) {
  const m = acting?.mandate;
  return !!m && m.actions.includes("upload") && m.descriptor.scope.categories.includes(DOCUMENT_TYPES[type]);
}

/**
 * Adds a new document to the owner's wallet, like ProxyVault.upload: sealed to the owner (the
 * key the owner signed into the mandate) and to this proxy, the manifest signed by the proxy and
 * naming the mandate. The server journals it for the owner as added by the proxy.
 */
export async function actingUpload(file, { type, title }, { onProgress, signal } = {}) {
  const { keys } = session();
  if (!acting) throw new PlainError("proxy.not_acting");
  const { mandate } = acting;
  if (!mayAdd(type)) throw new PlainError("proxy.not_in_scope");
  await checkMandateHead(mandate);
  const owner = mandate.owner;
  const ownerKeyId = await keyId(b64d(owner.public_encryption_key));
  if (ownerKeyId !== mandate.descriptor.owner_key_id || ownerKeyId !== owner.key_id) {
    throw new MandateChanged(); // the server shows another key for the owner: send nothing
  }
  const age = await import("./crypto/age.js");
  const documentId = crypto.randomUUID().replaceAll("-", "");
  const version = 1;
  const meta = {
    v: META_VERSION,
    type,
    title: title || file.name.replace(/\.[^.]+$/, "") || "document",
    label: null,
    issuer: null,
    issue_date: null,
    expiry_date: null,
    tags: [],
    file_name: file.name || "document",
    media_type: file.type || "application/octet-stream",
  };
  const identity = await age.newIdentity();
  const recipient = await age.recipientOf(identity);
  const encryptedMeta = await age.encryptBytes(utf8(JSON.stringify(meta)), recipient);
  const myKeyId = await keys.keyId();
  const ownerWrap = await seal(b64d(owner.public_encryption_key), utf8(identity), documentKeyInfo(documentId, version, ownerKeyId));
  const proxyWrap = await seal(keys.publicEncryptionKey, utf8(identity), documentKeyInfo(documentId, version, myKeyId));
  const encrypted = await encryptFile(file, recipient);
  const uploadId = await uploadBlob(encrypted.blob, { signal, onProgress });
  const [manifest, signature] = sign(
    keys.signingSeed,
    statement(KIND.DOCUMENT_VERSION, {
      document_id: documentId,
    version,
    blob_sha256: encrypted.sha256,
    blob_size: encrypted.size,
    meta_sha256: await sha256Hex(encryptedMeta),
    wraps: [
      { key_id: ownerKeyId, sha256: await sha256Hex(ownerWrap) },
      { key_id: myKeyId, sha256: await sha256Hex(proxyWrap) },
    ],
    mandate_id: mandate.id,
    signer_key_id: myKeyId,
    signed_at: isoNowSeconds(),
    }),
  );
  const result = await postJson(`/mandates/${mandate.id}/documents`, {
    document_id: documentId,
    upload_id: uploadId,
    encrypted_meta: b64e(encryptedMeta),
    owner_wrapped_key: b64e(ownerWrap),
    proxy_wrapped_key: b64e(proxyWrap),
    manifest: b64e(manifest),
    signature: b64e(signature),
  });
  acting.acted = true;
  return result;
}

// Soft navigation changes <html lang> when the person picks another language: redraw in it.
new MutationObserver(() => loadMessages().then(drawBanner, () => {})).observe(document.documentElement, {
  attributes: true,
  attributeFilter: ["lang"],
});
// Soft navigation swaps <main> (a child of <body>): redraw for the page now shown.
new MutationObserver(() => {
  if (acting) drawBanner();
}).observe(document.body, { childList: true });
