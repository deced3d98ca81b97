// Share links in the browser, like wallet/client/links.py: the owner creates, lists and stops
// them; anyone with the URL previews (consumes nothing) and opens them (uses the link once).
//
// A link created on this web page has a secret derived from the owner's vault secret:
//   secret = HKDF-SHA256(vault_secret, LABELS.LINK_SECRET + "|<link_id>")
// so the owner's wallet - and only it - can later open the link's sealed preview (to show its
// purpose in the list and the journal) and show its QR code again. To the redeemer and the
// server it is the same 32 random-looking bytes as a CLI link's secret.
import { getJson, postJson, request } from "./api.js";
import { b64d, b64e, canonicalJson, fromUtf8, sha256Hex } from "./crypto/encoding.js";
import { hkdf } from "./crypto/kdf.js";
import * as linkcrypto from "./crypto/links.js";
import { sign, verify } from "./crypto/signing.js";
import { info, KIND, LABELS, statement } from "./protocol.js";
import { keyId } from "./crypto/wrap.js";
import { getSession } from "./session.js";
import { PlainError } from "./ui.js";
import { listDocuments, profile, safeMediaType, versions } from "./vault.js";
import { checkCounterpart, coveredChange, HEADER, markRevoked, ownHead, refusal } from "./vaulthead.js";

export const DEFAULT_DAYS = 7;
export const MAX_DAYS = 90;
export const MAX_USES = 100;
const DAY = 86_400_000;

/** Something in the link does not match what the person signed: do not trust it. */
export class LinkIntegrityError extends PlainError {}

/**
 * The link names someone the server does not know made it, or is not signed by the account
 * that made it (like SenderNotVerified in wallet/client/links.py). Raised before the redeem.
 */
export class SenderNotVerified extends LinkIntegrityError {
  constructor() {
    super("link.sender_not_verified");
  }
}

// --- the owner's side ------------------------------------------------------------------------

function session() {
  const current = getSession();
  if (!current) throw new PlainError("errors.locked");
  return current;
}

/** The derived secret of a link made on the web (see the top of this file). */
export async function ownLinkSecret(keys, linkId) {
  return hkdf(keys.vaultSecret, info(LABELS.LINK_SECRET, linkId));
}

export function linkUrl(linkId, secret, origin = location.origin) {
  return `${origin}/s/${linkId}#${b64e(secret)}`;
}

/** days (1..90) or an ISO date "YYYY-MM-DD" (end of that day, UTC) -> Date, like parse_expiry. */
export function expiryFrom(choice, now = new Date()) {
  let moment;
  if (/^\d{4}-\d{2}-\d{2}$/.test(choice || "")) {
    moment = new Date(`${choice}T23:59:00Z`);
  } else {
    const days = Number(choice || DEFAULT_DAYS);
    if (!Number.isInteger(days) || days < 1) throw new PlainError("share.bad_expiry");
    moment = new Date(now.getTime() + days * DAY);
  }
  if (Number.isNaN(moment.getTime())) throw new PlainError("share.bad_expiry");
  if (moment <= now) throw new PlainError("share.expiry_past");
  if (moment.getTime() > now.getTime() + MAX_DAYS * DAY) throw new PlainError("share.expiry_far");
  return moment;
}

/** Python's datetime.isoformat() for a UTC moment with whole seconds. */
export function isoUtc(date) {
  return `${date.toISOString().slice(0, 19)}+00:00`;
}

/** The documents a scope covers: named ids first, then every document of the named types. */
export function chooseDocuments(documents, ids = [], types = []) {
  const chosen = [...new Set(ids)];
  for (const doc of documents) {
    if (types.includes(doc.meta.type) && !chosen.includes(doc.id)) chosen.push(doc.id);
  }
  return chosen;
}

/**
 * Creates a link. scope: { ids, types, fields }; options: { uses, expiresAt (Date), pin, purpose }.
 * Returns { id, url, secret, expiresAt, documents }.
 */
export async function createLink(scope, { uses = 1, expiresAt, pin = null, purpose = "" } = {}) {
  const { keys, account } = session();
  if (pin !== null && !/^\d{4,8}$/.test(pin)) throw new PlainError("share.bad_pin");
  if (!Number.isInteger(uses) || uses < 1 || uses > MAX_USES) throw new PlainError("share.bad_uses");
  const expires = expiresAt ?? expiryFrom(String(DEFAULT_DAYS));
  const documents = await listDocuments();
  const chosen = chooseDocuments(documents, scope.ids || [], scope.types || []);
  const items = [];
  for (const documentId of chosen) {
    const detail = await versions(documentId);
    const latest = detail.versions.at(-1);
    items.push({
      document_id: documentId,
      version: latest.version,
      identity: latest.identity,
      blob_sha256: latest.manifest.blob_sha256,
      blob_size: Number(latest.manifest.blob_size),
      meta: latest.meta,
    });
  }
  const fields = {};
  if ((scope.fields || []).length) {
    const values = await profile();
    for (const name of scope.fields) if (name in values) fields[name] = values[name];
  }
  if (!items.length && !Object.keys(fields).length) throw new PlainError("share.nothing");

  const owner = { handle: account.handle, signing_key: b64e(keys.publicSigningKey) };
  return sealAndSend(keys, {
    secretFor: (linkId) => ownLinkSecret(keys, linkId),
    owner,
    proxy: null,
    items,
    fields,
    uses,
    expires,
    pin,
    purpose,
    path: "/links",
  });
}

/**
 * The package, preview and signed descriptor of a link, sent to `path` (create_link's second
 * half). `owner` is the party whose documents these are; `proxy` (or null) the proxy's party
 * with the owner's signed authorisation. `keys` sign: the owner's, or the proxy's own.
 */
async function sealAndSend(keys, { secretFor, owner, proxy, items, fields, uses, expires, pin, purpose, path }) {
  const linkId = crypto.randomUUID().replaceAll("-", "");
  const secret = await secretFor(linkId);
  const serverShare = crypto.getRandomValues(new Uint8Array(32));
  const pkg = statement(KIND.SHARE_LINK_PACKAGE, {
    link_id: linkId,
    owner,
    purpose,
    expires_at: isoUtc(expires),
    items,
    profile: fields,
    ...(proxy ? { proxy } : {}),
  });
  const preview = { purpose, owner: owner.handle, documents: items.length };
  if (proxy) preview.proxy = proxy.handle;
  const sealedPackage = await linkcrypto.seal(
    await linkcrypto.linkKey(secret, serverShare, pin, linkId),
    canonicalJson(pkg),
    linkId,
  );
  const sealedPreview = await linkcrypto.seal(
    await linkcrypto.previewKey(secret, linkId),
    canonicalJson(preview),
    linkId,
  );
  const { ed25519 } = await import("@noble/curves/ed25519.js");
  const proofKey = ed25519.getPublicKey(await linkcrypto.proofSeed(secret, linkId));
  const pinCheck = pin !== null ? await linkcrypto.pinCheck(secret, linkId, pin) : null;
  const descriptor = statement(KIND.SHARE_LINK, {
    link_id: linkId,
    owner_key_id: await keys.keyId(),
    proof_key_sha256: await sha256Hex(proofKey),
    pin: pin !== null,
    uses,
    package_sha256: await sha256Hex(sealedPackage),
    preview_sha256: await sha256Hex(sealedPreview),
    items: items.map((i) => [i.document_id, i.version]).sort(compareItems),
  });
  const [descriptorBytes, signature] = sign(keys.signingSeed, descriptor);
  await postJson(path, {
    link_id: linkId,
    proof_key: b64e(proofKey),
    pin_check: pinCheck ? b64e(pinCheck) : null,
    server_share: b64e(serverShare),
    sealed_package: b64e(sealedPackage),
    sealed_preview: b64e(sealedPreview),
    descriptor: b64e(descriptorBytes),
    signature: b64e(signature),
    uses,
    expires_at: isoUtc(expires),
    items: items.map((i) => ({ document_id: i.document_id, version: i.version })),
  });
  serverShare.fill(0);
  return { id: linkId, url: linkUrl(linkId, secret), secret, expiresAt: expires, documents: items.length };
}

/**
 * A link made by a proxy acting for an owner (create_link with a ProxyVault): opened once
 * only, over documents of the mandate only (`documents`: checked acting documents, see
 * proxy.js), no profile fields, never outliving the mandate, signed by the proxy's own key and
 * carrying the owner's signed authorisation (link_parties). Its secret is random: nobody
 * needs to open its preview again.
 */
export async function createProxyLink(mandate, documents, { pin = null, purpose = "" } = {}) {
  const { keys, account } = session();
  if (!mandate.actions.includes("share")) throw new PlainError("proxy.cannot_share");
  if (pin !== null && !/^\d{4,8}$/.test(pin)) throw new PlainError("share.bad_pin");
  const mandateEnd = new Date(mandate.descriptor.expires_at);
  const expires = new Date(Math.min(expiryFrom(String(DEFAULT_DAYS)).getTime(), mandateEnd.getTime()));
  const items = documents.map((doc) => ({
    document_id: doc.id,
    version: doc.version,
    identity: doc.identity,
    blob_sha256: doc.manifest.blob_sha256,
    blob_size: Number(doc.manifest.blob_size),
    meta: doc.meta,
  }));
  if (!items.length) throw new PlainError("share.nothing");
  const owner = { handle: mandate.owner.handle, signing_key: mandate.owner.public_signing_key };
  const proxy = {
    handle: account.handle,
    signing_key: b64e(keys.publicSigningKey),
    authorisation: mandate.authorisation,
    authorisation_signature: mandate.authorisation_signature,
  };
  return sealAndSend(keys, {
    secretFor: async () => linkcrypto.newSecret(),
    owner,
    proxy,
    items,
    fields: {},
    uses: 1,
    expires,
    pin,
    purpose,
    path: `/mandates/${mandate.id}/links`,
  });
}

// Python sorts [id, version] lists element by element.
function compareItems(a, b) {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  return a[1] - b[1];
}

/**
 * The owner's links, newest first. For a link made on the web the purpose is opened with the
 * derived secret, and `url` can show the QR code again; a link made elsewhere has neither.
 */
export async function listLinks() {
  const { keys } = session();
  // Read against the owner's signed head: a link it lists as stopped is shown stopped, and a
  // server that shows one as working again is refused (`refused` on the result).
  const head = await ownHead();
  const { rows, revived } = markRevoked(head, "links", await getJson("/links"));
  const result = [];
  for (const row of rows) {
    let preview = null;
    let url = null;
    try {
      const secret = await ownLinkSecret(keys, row.id);
      const opened = await linkcrypto.openSealed(
        await linkcrypto.previewKey(secret, row.id),
        b64d(row.sealed_preview),
        row.id,
      );
      preview = JSON.parse(fromUtf8(opened));
      if (row.state === "active") url = linkUrl(row.id, secret);
    } catch {
      preview = null; // made by the command line or under a mandate: its secret is not ours
    }
    result.push({ ...row, preview, url });
  }
  result.reverse();
  result.refused = revived ? await refusal("changed") : null;
  return result;
}

export async function revokeLink(linkId) {
  await coveredChange({ revoke: { kind: "links", id: linkId } }, (header) =>
    request("POST", `/links/${linkId}/revoke`, { headers: { [HEADER]: header } }),
  );
}

// --- the redeemer's side (no account) ---------------------------------------------------------

/** { linkId, secret } from this page's address, or null if the address is not complete. */
export function parseLinkLocation(loc = location) {
  const match = /^\/s\/([0-9a-f]{32})\/?$/.exec(loc.pathname);
  const fragment = (loc.hash || "").replace(/^#/, "");
  if (!match || !fragment) return null;
  let secret;
  try {
    secret = b64d(fragment);
  } catch {
    return null;
  }
  if (secret.length !== linkcrypto.SECRET_BYTES) return null;
  return { linkId: match[1], secret };
}

async function proofFor(link) {
  const challenge = await postJson(`/links/${link.linkId}/challenge`, undefined);
  const signature = await linkcrypto.proof(link.secret, link.linkId, b64d(challenge.nonce));
  return { challenge_id: challenge.challenge_id, proof: b64e(signature) };
}

// --- who sent it: the accounts the server's own records name, never what the maker wrote ---

function serverAccount(value) {
  if (!value || typeof value !== "object") return null;
  try {
    return {
      handle: String(value.handle),
      signingKey: b64d(value.public_signing_key),
      encryptionKey: b64d(value.public_encryption_key),
    };
  } catch {
    return null;
  }
}

/** { sender, onBehalfOf, owner, proxy } from a preview or redeem answer. */
export function serverSenders(answer) {
  const sender = serverAccount(answer?.sender);
  if (!sender) throw new SenderNotVerified();
  const onBehalfOf = answer.on_behalf_of == null ? null : serverAccount(answer.on_behalf_of);
  if (answer.on_behalf_of != null && !onBehalfOf) throw new SenderNotVerified();
  return { sender, onBehalfOf, owner: onBehalfOf || sender, proxy: onBehalfOf ? sender : null };
}

/** The descriptor, checked to be signed by the server-named sender's key, for this link. */
async function signedBySender(senders, answer, linkId) {
  let signed;
  try {
    const descriptor = b64d(answer.descriptor);
    verify(senders.sender.signingKey, descriptor, b64d(answer.signature));
    signed = JSON.parse(fromUtf8(descriptor));
  } catch {
    throw new SenderNotVerified();
  }
  if (
    !signed ||
    typeof signed !== "object" ||
    signed.kind !== "share-link" ||
    signed.link_id !== linkId ||
    signed.owner_key_id !== (await keyId(senders.sender.encryptionKey))
  ) {
    throw new SenderNotVerified();
  }
  return signed;
}

/** Before anything is used: the preview names exactly the accounts that made the link. */
export async function checkPreviewSender(answer, preview, linkId) {
  const senders = serverSenders(answer);
  const signed = await signedBySender(senders, answer, linkId);
  if (signed.preview_sha256 !== (await sha256Hex(b64d(answer.sealed_preview)))) {
    throw new SenderNotVerified();
  }
  if (preview.owner !== senders.owner.handle || (preview.proxy ?? null) !== (senders.proxy?.handle ?? null)) {
    throw new SenderNotVerified();
  }
  return senders;
}

function sameParty(party, account) {
  if (!party || typeof party !== "object" || party.handle !== account.handle) return false;
  try {
    return sameBytes(b64d(String(party.signing_key)), account.signingKey);
  } catch {
    return false;
  }
}

function sameBytes(a, b) {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

function sameSenders(a, b) {
  const same = (x, y) =>
    x === y ||
    (x && y && x.handle === y.handle && sameBytes(x.signingKey, y.signingKey) && sameBytes(x.encryptionKey, y.encryptionKey));
  return same(a.sender, b.sender) && same(a.onBehalfOf, b.onBehalfOf);
}

/** After the redeem: the package's owner (and proxy) are, handle and key, those accounts. */
async function checkPackageSender(pkg, redeemed, linkId, expected) {
  const senders = serverSenders(redeemed);
  await signedBySender(senders, redeemed, linkId);
  if (!sameParty(pkg.owner, senders.owner)) throw new SenderNotVerified();
  if ((pkg.proxy == null) !== (senders.proxy == null)) throw new SenderNotVerified();
  if (senders.proxy && !sameParty(pkg.proxy, senders.proxy)) throw new SenderNotVerified();
  if (expected && !sameSenders(senders, expected)) throw new SenderNotVerified();
  return senders;
}

/**
 * Who shared, for what, how many documents and the link's state. Uses nothing. Throws
 * SenderNotVerified unless the people it names are the accounts the server knows made it.
 */
export async function previewLink(link) {
  const answer = await postJson(`/links/${link.linkId}/preview`, await proofFor(link));
  // A dead link (used, expired, stopped, locked) tells only its state: no purpose, owner or sender.
  if (answer.state !== "active") return { state: answer.state, message: answer.message };
  let preview;
  try {
    const opened = await linkcrypto.openSealed(
      await linkcrypto.previewKey(link.secret, link.linkId),
      b64d(answer.sealed_preview),
      link.linkId,
    );
    preview = JSON.parse(fromUtf8(opened));
  } catch {
    throw new LinkIntegrityError("link.changed");
  }
  if (!preview || typeof preview !== "object") throw new SenderNotVerified();
  const senders = await checkPreviewSender(answer, preview, link.linkId);
  return {
    senders,
    purpose: String(preview.purpose || ""),
    owner: String(preview.owner || ""),
    proxy: preview.proxy ? String(preview.proxy) : null,
    documents: Number(preview.documents) || 0,
    state: answer.state,
    message: answer.message,
    pinRequired: answer.pin_required,
    expiresAt: answer.expires_at,
  };
}

function checkAuthorisation(ownerSigningKey, proxy) {
  let terms;
  try {
    const message = b64d(proxy.authorisation);
    verify(ownerSigningKey, message, b64d(proxy.authorisation_signature));
    terms = JSON.parse(fromUtf8(message));
  } catch {
    throw new LinkIntegrityError("link.not_signed");
  }
  if (
    terms.kind !== KIND.MANDATE_AUTHORISATION ||
    terms.proxy_signing_key !== proxy.signing_key ||
    !(terms.actions || []).includes("share")
  ) {
    throw new LinkIntegrityError("link.not_signed");
  }
}

/** The owner's (or the authorised proxy's) signature must cover exactly this package. */
async function checkDescriptor(pkg, redeemed, linkId) {
  let signer = pkg.owner?.signing_key;
  if (pkg.proxy) {
    checkAuthorisation(b64d(pkg.owner.signing_key), pkg.proxy);
    signer = pkg.proxy.signing_key;
  }
  const descriptor = b64d(redeemed.descriptor);
  try {
    verify(b64d(signer), descriptor, b64d(redeemed.signature));
  } catch {
    throw new LinkIntegrityError("link.not_signed");
  }
  const signed = JSON.parse(fromUtf8(descriptor));
  const items = (pkg.items || []).map((i) => [i.document_id, i.version]).sort(compareItems);
  if (
    signed.package_sha256 !== (await sha256Hex(b64d(redeemed.sealed_package))) ||
    signed.link_id !== pkg.link_id ||
    pkg.link_id !== linkId ||
    JSON.stringify(signed.items) !== JSON.stringify(items)
  ) {
    throw new LinkIntegrityError("link.not_matching");
  }
}

/**
 * Redeems the link (uses it once). Returns { purpose, owner, proxy, items, profile, token,
 * tokenExpiresAt, usesLeft, senders }; files come with downloadItem(). Checks the sender
 * first (previewLink) unless `previewed` (the preview's senders) is given, so a link that
 * names someone who did not make it is refused before it is used.
 */
export async function openLink(link, pin = null, previewed = null) {
  const expected = previewed ?? (await previewLink(link)).senders;
  const body = await proofFor(link);
  if (pin) body.pin_check = b64e(await linkcrypto.pinCheck(link.secret, link.linkId, pin));
  const redeemed = await postJson(`/links/${link.linkId}/redeem`, body);
  let pkg;
  try {
    const key = await linkcrypto.linkKey(link.secret, b64d(redeemed.server_share), pin, link.linkId);
    pkg = JSON.parse(fromUtf8(await linkcrypto.openSealed(key, b64d(redeemed.sealed_package), link.linkId)));
  } catch {
    throw new LinkIntegrityError("link.damaged");
  }
  const senders = await checkPackageSender(pkg, redeemed, link.linkId, expected);
  await checkDescriptor(pkg, redeemed, link.linkId);
  // The owner's signed head, checked with the owner's key (the account the server's records
  // name, which the package binds): a link the owner stopped is not opened, whatever the
  // server says of it.
  await checkCounterpart("links", link.linkId, redeemed.owner_head, {
    ownerHandle: senders.owner.handle,
    ownerSigningKey: senders.owner.signingKey,
    ownerKeyId: await keyId(senders.owner.encryptionKey),
  });
  return {
    senders,
    purpose: String(pkg.purpose || ""),
    owner: String(pkg.owner?.handle || ""),
    proxy: pkg.proxy ? String(pkg.proxy.handle || "") : null,
    items: pkg.items || [],
    profile: pkg.profile || {},
    token: redeemed.download_token,
    tokenExpiresAt: redeemed.download_expires_at,
    usesLeft: redeemed.uses_left,
  };
}

/** Downloads one shared file with the link's download token, checks and decrypts it. */
export async function downloadItem(opened, item, { onProgress, signal } = {}) {
  const { createSHA256 } = await import("./crypto/wasm.js");
  const hasher = await createSHA256();
  hasher.init();
  const size = Number(item.blob_size);
  const path = `/links/files/${item.document_id}/versions/${item.version}`;
  const chunks = [];
  let received = 0;
  for (let attempt = 0; received < size; attempt++) {
    if (attempt > 3) throw new PlainError("errors.network");
    const headers = received ? { Range: `bytes=${received}-` } : {};
    let response;
    try {
      response = await request("GET", path, { headers, signal, token: opened.token });
    } catch (error) {
      if (error?.status && error.status !== 503) throw error;
      continue;
    }
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (received + value.length > size) throw new LinkIntegrityError("link.file_damaged");
        chunks.push(value);
        hasher.update(value);
        received += value.length;
        onProgress?.(received, size);
      }
    } catch (error) {
      if (error instanceof LinkIntegrityError || error?.name === "AbortError") throw error;
      // a dropped connection: resume with Range
    }
  }
  if (hasher.digest("hex") !== item.blob_sha256) throw new LinkIntegrityError("link.file_damaged");
  const age = await import("./crypto/age.js");
  const parts = [];
  try {
    const reader = (await age.decryptStream(new Blob(chunks).stream(), item.identity)).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
    }
  } catch {
    throw new LinkIntegrityError("link.file_damaged");
  }
  return new Blob(parts, { type: safeMediaType(item.meta?.media_type) });
}

// --- streaming saves (the service worker web/src/link-sw.js) -----------------------------------

const WORKER_URL = "/static/js/link-sw.js";
const WORKER_SCOPE = "/static/js/link-download/";
/** Files above this size are not kept in the page: Save streams them to disk (when it can). */
export const KEEP_IN_PAGE_MAX = 16 * 1000 * 1000;

/** Whether this browser can save a shared file as it downloads, through the service worker. */
export function canStream() {
  return Boolean(globalThis.isSecureContext && navigator.serviceWorker && globalThis.ReadableStream);
}

let workerReady = null;

async function linkWorker() {
  workerReady ??= (async () => {
    const registration = await navigator.serviceWorker.register(WORKER_URL, { scope: WORKER_SCOPE });
    const worker = registration.installing || registration.waiting || registration.active;
    if (worker && worker.state !== "activated") {
      await new Promise((resolve) => {
        const changed = () => {
          if (worker.state === "activated" || worker.state === "redundant") {
            worker.removeEventListener("statechange", changed);
            resolve();
          }
        };
        worker.addEventListener("statechange", changed);
        changed();
      });
    }
    const active = registration.active;
    if (!active) throw new Error("the service worker did not start");
    return active;
  })();
  try {
    return await workerReady;
  } catch (error) {
    workerReady = null;
    throw error;
  }
}

/**
 * Saves one shared file as it downloads: the service worker fetches it with the link's download
 * token, checks its SHA-256 and decrypts it (age STREAM: each chunk authenticated), and the
 * browser writes it to disk as it comes. Resolves once the browser has the whole, checked file;
 * rejects with LinkIntegrityError("link.file_damaged") if any byte was changed: the download
 * then fails and its last part is never written.
 */
export async function streamItem(opened, item, name, { onProgress } = {}) {
  const worker = await linkWorker();
  const id = b64e(crypto.getRandomValues(new Uint8Array(18)));
  const channel = new MessageChannel();
  const job = {
    path: `/api/v1/links/files/${item.document_id}/versions/${item.version}`,
    token: opened.token,
    size: Number(item.blob_size),
    sha256: item.blob_sha256,
    identity: item.identity,
    name,
  };
  const frame = document.createElement("iframe");
  frame.hidden = true;
  frame.title = name;
  try {
    await new Promise((resolve, reject) => {
      channel.port1.onmessage = (event) => {
        const message = event.data || {};
        if (message.type === "ready") {
          frame.src = `${WORKER_SCOPE}${id}`;
          document.body.append(frame);
        } else if (message.type === "progress") {
          onProgress?.(message.done, message.total);
        } else if (message.type === "done") {
          resolve();
        } else if (message.type === "failed") {
          if (message.damaged) reject(new LinkIntegrityError("link.file_damaged"));
          else if (message.status) reject(Object.assign(new PlainError("errors.network"), { status: message.status }));
          else reject(new PlainError("errors.network"));
        }
      };
      worker.postMessage({ type: "save", id, job }, [channel.port2]);
    });
  } finally {
    channel.port1.close();
    // The frame holds the download until the browser has it all; then it can go.
    setTimeout(() => frame.remove(), 1000);
  }
}

/** A file name that cannot climb out of a folder or hide an extension. */
export function safeFileName(meta, used = new Set()) {
  const original = String(meta?.file_name || "document");
  const clean = original.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, "-").replace(/^\.+/, "").slice(0, 120);
  let name = clean || "document";
  const dot = name.lastIndexOf(".");
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
  for (let n = 2; used.has(name); n++) name = `${stem}-${n}${ext}`;
  used.add(name);
  return name;
}

const SVG = "http://www.w3.org/2000/svg";

/**
 * The link as a QR code, drawn in this browser (the secret must never go to a server) as an
 * SVG of DOM nodes: no inline style, so the page's CSP holds. Error correction M, like the CLI.
 */
export async function qrSvg(text, label) {
  const { default: qrcode } = await import("qrcode-generator");
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  const count = qr.getModuleCount();
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `-4 -4 ${count + 8} ${count + 8}`);
  svg.setAttribute("class", "qr link-qr");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.setAttribute("shape-rendering", "crispEdges");
  const back = document.createElementNS(SVG, "rect");
  for (const [name, value] of [["x", -4], ["y", -4], ["width", count + 8], ["height", count + 8]]) {
    back.setAttribute(name, String(value));
  }
  back.setAttribute("fill", "#fff");
  svg.append(back);
  let d = "";
  for (let row = 0; row < count; row++) {
    for (let col = 0; col < count; col++) if (qr.isDark(row, col)) d += `M${col},${row}h1v1h-1z`;
  }
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", d);
  path.setAttribute("fill", "#000");
  svg.append(path);
  return svg;
}

/** Prints only `section` (print CSS in wallet.css: body.printing-part .print-target). */
export function printOnly(section) {
  // Print CSS shows only the element marked .print-target.
  section.classList.add("print-target");
  document.body.classList.add("printing-part");
  const done = () => {
    document.body.classList.remove("printing-part");
    section.classList.remove("print-target");
    window.removeEventListener("afterprint", done);
  };
  window.addEventListener("afterprint", done);
  window.print();
  setTimeout(done, 1000);
}
