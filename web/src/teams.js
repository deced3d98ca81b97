// Organisations in the browser, like wallet/client/organisations.py: a member opens their copy
// of the team key (sealed to them by an admin, who signed it) and reads grants to the team
// with it; an owner checks that a team's current key follows, by signed statements, from a
// key they trust (the signed team-key chain). The team key stays in memory, like the account's.
//
// Admins manage the team here too (like add_member, change_role and rotate): a new member gets
// the team key sealed to them and signed by the admin; removing one makes a new team key,
// announced by a statement signed with the old one, and reseals to it everything the old key
// opened (grants, document and profile keys), in one request the server applies whole.
import { getJson, postJson } from "./api.js";
import { b64d, b64e, canonicalJson, fromUtf8, sha256Hex } from "./crypto/encoding.js";
import { AccountKeys } from "./crypto/keys.js";
import { sign, verify } from "./crypto/signing.js";
import { documentKeyInfo, keyId, openSealed, profileFieldInfo, seal } from "./crypto/wrap.js";
import {
  checkPin,
  GrantIntegrityError,
  grantInfo,
  KeyChanged,
  lookupPerson,
  openDescriptor,
  safetyCode,
} from "./grants.js";
import { infoBytes, KIND, LABELS, statement } from "./protocol.js";
import { getSession } from "./session.js";
import { PlainError } from "./ui.js";

/** The team key served does not fit the member's signed copy: do not trust it. */
export class TeamKeyChanged extends PlainError {}

const teamSealInfo = (orgId, teamKeyId, memberKeyId) =>
  infoBytes(LABELS.TEAM_KEY, orgId, teamKeyId, memberKeyId);

function session() {
  const current = getSession();
  if (!current) throw new PlainError("errors.locked");
  return current;
}

const sameJson = (a, b) => fromUtf8(canonicalJson(a)) === fromUtf8(canonicalJson(b));

/**
 * Opens this member's copy of the team key (open_team_key): the admin's signature first (the
 * admin's keys are pinned like any person's), then the seal, then the keys must be the served
 * team key. Returns { orgId, handle, keys, keyId }.
 */
export async function openTeamKey(detail) {
  const { keys, account } = session();
  const copy = detail.my_copy;
  let team;
  try {
    const sealer = copy.sealed_by;
    if (sealer.key_id !== (await keyId(b64d(sealer.public_encryption_key)))) throw new Error("key");
    if (sealer.handle !== account.handle) await checkPin(sealer.handle, sealer);
    const sealed = b64d(copy.sealed_team_key);
    const signed = b64d(copy.statement);
    verify(b64d(sealer.public_signing_key), signed, b64d(copy.signature));
    const expected = statement(KIND.TEAM_KEY_SEAL, {
      org_id: detail.id,
      team_key_id: copy.team_key_id,
      member: account.handle,
      member_key_id: await keys.keyId(),
      sealed_sha256: await sha256Hex(sealed),
      admin: sealer.handle,
    });
    if (!sameJson(JSON.parse(fromUtf8(signed)), expected)) throw new Error("statement");
    const info = teamSealInfo(detail.id, copy.team_key_id, await keys.keyId());
    team = AccountKeys.fromBytes(await openSealed(await keys.encryptionKey(), sealed, info));
  } catch (error) {
    if (error instanceof KeyChanged) throw error;
    throw new TeamKeyChanged("team.changed");
  }
  const served = detail.team_key;
  const teamKeyId = await team.keyId();
  if (
    teamKeyId !== copy.team_key_id ||
    teamKeyId !== served.key_id ||
    b64e(team.publicEncryptionKey) !== b64e(b64d(served.public_encryption_key)) ||
    b64e(team.publicSigningKey) !== b64e(b64d(served.public_signing_key))
  ) {
    throw new TeamKeyChanged("team.changed");
  }
  return { orgId: detail.id, handle: detail.handle, keys: team, keyId: teamKeyId };
}

/** team_key: the organisation's detail for this member, then their opened copy. */
export async function teamKey(org) {
  return openTeamKey(await getJson(`/orgs/${encodeURIComponent(org.trim().toLowerCase())}`));
}

/**
 * _check_chain: walks the team keys from the one the owner trusts to the current one; each
 * must be announced by a statement signed with the key before it. Returns the current key.
 */
export async function checkChain(publicTeam, anchorKeyId) {
  const chain = publicTeam.team_keys;
  const changed = () => new KeyChanged("team.chain_broken", { handle: publicTeam.handle });
  const start = chain.findIndex((k) => k.key_id === anchorKeyId);
  if (start < 0) throw changed();
  for (const [index, key] of chain.entries()) {
    const encryption = b64d(key.public_encryption_key);
    const signing = b64d(key.public_signing_key);
    if (key.key_id !== (await keyId(encryption)) || key.epoch !== index + 1) throw changed();
    if (index <= start) continue;
    const before = chain[index - 1];
    let statement;
    try {
      verify(b64d(before.public_signing_key), b64d(key.statement), b64d(key.signature));
      statement = JSON.parse(fromUtf8(b64d(key.statement)));
    } catch {
      throw changed();
    }
    if (
      statement.kind !== KIND.TEAM_KEY ||
      statement.org_id !== publicTeam.id ||
      statement.epoch !== key.epoch ||
      statement.key_id !== key.key_id ||
      statement.previous_key_id !== before.key_id ||
      statement.public_encryption_key_sha256 !== (await sha256Hex(encryption)) ||
      statement.public_signing_key_sha256 !== (await sha256Hex(signing))
    ) {
      throw changed();
    }
  }
  return chain[chain.length - 1];
}

/**
 * reader_for: null for a grant to this account; for a grant to an organisation, the member's
 * opened team key, which must be the one the grant is sealed to now. `teams` caches keys per
 * organisation for one listing.
 */
export async function readerFor(grant, teams = new Map()) {
  if (grant.grantee_kind !== "organisation") return null;
  const orgId = grant.organisation.id;
  if (!teams.has(orgId)) teams.set(orgId, await teamKey(orgId));
  const team = teams.get(orgId);
  if (team.keyId !== grant.grantee.key_id) throw new PlainError("team.key_moved");
  return team;
}

/**
 * received: grants to this account, then grants to its organisations (opened with the team
 * key). Each comes with its owner-signed descriptor and `team` (null or the team key).
 */
export async function receivedWithTeams() {
  const { keys } = session();
  const teams = new Map();
  const result = [];
  for (const grant of await getJson("/received")) {
    await checkPin(grant.owner.handle, grant.owner);
    const team = await readerFor(grant, teams);
    const descriptor = await openDescriptor(keys, grant, b64d(grant.owner.public_signing_key), team);
    result.push({ ...grant, descriptor, team });
  }
  return result;
}

// --- admins: the organisation, its members and roles ------------------------------------------

/** A change the admin's copy cannot vouch for: something sealed to the team was altered. */
export class TeamChanged extends PlainError {}

export const teamSafetyCode = (team) => safetyCode(team.publicEncryptionKey, team.publicSigningKey);

async function teamKeyBody(orgId, epoch, team, previous, previousKeys) {
  const { account } = session();
  // The first key signs itself; every later one is signed by the key before it.
  const signer = previousKeys ? previousKeys.signingSeed : team.signingSeed;
  const [message, signature] = sign(
    signer,
    statement(KIND.TEAM_KEY, {
      org_id: orgId,
      epoch,
      key_id: await team.keyId(),
      public_encryption_key_sha256: await sha256Hex(team.publicEncryptionKey),
      public_signing_key_sha256: await sha256Hex(team.publicSigningKey),
      previous_key_id: previous ? previous.key_id : null,
      admin: account.handle,
    }),
  );
  return {
    key_id: await team.keyId(),
    public_encryption_key: b64e(team.publicEncryptionKey),
    public_signing_key: b64e(team.publicSigningKey),
    statement: b64e(message),
    signature: b64e(signature),
  };
}

/** _sealed_copy: the team's private keys sealed to one member, signed by this admin. */
async function sealedCopy(orgId, team, member) {
  const { keys, account } = session();
  const teamKeyId = await team.keyId();
  const sealed = await seal(b64d(member.public_encryption_key), team.toBytes(), teamSealInfo(orgId, teamKeyId, member.key_id));
  const [message, signature] = sign(
    keys.signingSeed,
    statement(KIND.TEAM_KEY_SEAL, {
      org_id: orgId,
      team_key_id: teamKeyId,
      member: member.handle,
      member_key_id: member.key_id,
      sealed_sha256: await sha256Hex(sealed),
      admin: account.handle,
    }),
  );
  return {
    handle: member.handle,
    member_key_id: member.key_id,
    sealed_team_key: b64e(sealed),
    statement: b64e(message),
    signature: b64e(signature),
  };
}

async function ownKeys() {
  const { keys, account } = session();
  return {
    handle: account.handle,
    key_id: await keys.keyId(),
    public_encryption_key: b64e(keys.publicEncryptionKey),
    public_signing_key: b64e(keys.publicSigningKey),
  };
}

const orgPath = (org) => `/orgs/${encodeURIComponent(org.trim().toLowerCase())}`;

/** The organisations this account is a member of: [{ handle, display_name, role, members }]. */
export async function myOrgs() {
  return getJson("/orgs");
}

export async function orgDetail(org) {
  return getJson(orgPath(org));
}

/** create_org: a new team key, sealed to the creator, who becomes the first admin. */
export async function createOrg(displayName) {
  if (displayName.split(/\s+/).join(" ").trim().length < 2) throw new PlainError("org.name_short");
  const orgId = crypto.randomUUID().replaceAll("-", "");
  const team = AccountKeys.generate();
  const created = await postJson("/orgs", {
    org_id: orgId,
    display_name: displayName.trim(),
    team_key: await teamKeyBody(orgId, 1, team, null, null),
    creator_copy: await sealedCopy(orgId, team, await ownKeys()),
  });
  return { id: created.id, handle: created.handle, safetyCode: await teamSafetyCode(team) };
}

function mustBeAdmin(detail) {
  if (detail.role !== "admin") throw new PlainError("org.admins_only");
}

/**
 * add_member: seals the team key to a new member. The caller showed the member's safety code
 * (grants.lookupPerson) and the admin confirmed it; the key is pinned like a grantee's.
 */
export async function addMember(org, handle, role = "worker") {
  if (role !== "admin" && role !== "worker") throw new PlainError("org.role_unknown");
  const detail = await orgDetail(org);
  mustBeAdmin(detail);
  const team = await openTeamKey(detail);
  const person = await lookupPerson(handle);
  await checkPin(person.keys.handle, person.keys);
  await postJson(`${orgPath(detail.handle)}/members`, {
    role,
    copy_for_member: await sealedCopy(detail.id, team.keys, person.keys),
  });
  return { handle: person.keys.handle, role, safetyCode: person.code };
}

/** change_role: admin or worker; both hold the team key, so no key changes. */
export async function changeRole(org, handle, role) {
  if (role !== "admin" && role !== "worker") throw new PlainError("org.role_unknown");
  return postJson(`${orgPath(org)}/members/${encodeURIComponent(handle.trim().toLowerCase())}/role`, { role });
}

async function reseal(oldKeys, oldKeyId, wrapped, info, newInfo, newPublic) {
  let secret;
  try {
    secret = await openSealed(await oldKeys.encryptionKey(), b64d(wrapped), info);
  } catch {
    throw new TeamChanged("team.changed");
  }
  return b64e(await seal(newPublic, secret, newInfo));
}

/**
 * rotate (remove_member when `remove` is a handle): a new team key for the members who stay,
 * every key the old one protected resealed to it, all sent in one request. Members' keys are
 * checked against this session's pins (KeyChanged for a swapped key: nobody gets the team key).
 * Returns { members, grants, documents, fields, safetyCode }.
 */
export async function rotate(org, { remove = null } = {}) {
  const detail = await orgDetail(org);
  mustBeAdmin(detail);
  const { account } = session();
  const old = await openTeamKey(detail);
  const leaving = remove ? remove.trim().toLowerCase() : null;
  if (leaving && !detail.members.some((m) => m.keys.handle === leaving)) throw new PlainError("org.not_member", { handle: leaving });
  const wraps = await getJson(`${orgPath(detail.handle)}/wraps`);
  if (wraps.team_key_id !== old.keyId) throw new PlainError("org.changed_meanwhile");
  const fresh = AccountKeys.generate();
  const newId = await fresh.keyId();
  const newPublic = fresh.publicEncryptionKey;
  const copies = [];
  for (const member of detail.members) {
    const keys = member.keys;
    if (keys.handle === leaving) continue;
    if (keys.key_id !== (await keyId(b64d(keys.public_encryption_key)))) {
      throw new KeyChanged("grant.wrong_person", { handle: keys.handle });
    }
    // Pinned like a grantee: a server that swaps a member's key gets no team key.
    if (keys.handle !== account.handle) await checkPin(keys.handle, keys);
    copies.push(await sealedCopy(detail.id, fresh, keys));
  }
  const grants = [];
  for (const grant of wraps.grants) {
    grants.push({
      grant_id: grant.grant_id,
      sealed_for_grantee: await reseal(old.keys, old.keyId, grant.sealed_for_grantee,
        grantInfo(grant.grant_id, old.keyId), grantInfo(grant.grant_id, newId), newPublic),
    });
  }
  const documents = [];
  for (const wrap of wraps.document_wraps) {
    documents.push({
      id: wrap.id,
      wrapped_key: await reseal(old.keys, old.keyId, wrap.wrapped_key,
        documentKeyInfo(wrap.document_id, wrap.version, old.keyId),
        documentKeyInfo(wrap.document_id, wrap.version, newId), newPublic),
    });
  }
  const fields = [];
  for (const wrap of wraps.field_wraps) {
    fields.push({
      id: wrap.id,
      wrapped_key: await reseal(old.keys, old.keyId, wrap.wrapped_key,
        profileFieldInfo(wrap.slot, old.keyId), profileFieldInfo(wrap.slot, newId), newPublic),
    });
  }
  await postJson(`${orgPath(detail.handle)}/rotate`, {
    previous_team_key_id: old.keyId,
    remove: leaving,
    team_key: await teamKeyBody(detail.id, detail.epoch + 1, fresh, detail.team_key, old.keys),
    copies,
    grants,
    document_wraps: documents,
    field_wraps: fields,
  });
  return {
    members: copies.length,
    grants: grants.length,
    documents: documents.length,
    fields: fields.length,
    safetyCode: await teamSafetyCode(fresh),
  };
}

export const removeMember = (org, handle) => rotate(org, { remove: handle });

export async function orgEvents(org) {
  return getJson(`${orgPath(org)}/events`);
}

// --- owners: which team key to seal to ----------------------------------------------------

// org id -> the team key id this owner trusts, for this tab's session only (like grants.js pins).
const teamPins = new Map();

/**
 * verified_team: the organisation's current team key, trusted because it follows from a key
 * this owner trusts (`anchorKeyId`, or the one pinned this session). The first time, the current
 * key is taken and its safety code must be compared with the office (`firstContact`).
 * Returns { id, handle, displayName, keyId, publicEncryptionKey, publicSigningKey, safetyCode,
 * firstContact, admins }.
 */
export async function verifiedTeam(org, { anchorKeyId = null, acceptNew = false } = {}) {
  const wanted = org.trim().toLowerCase();
  const pub = await getJson(`${orgPath(wanted)}/public`);
  if (pub.handle !== wanted && pub.id !== wanted) throw new KeyChanged("team.wrong_org", { handle: wanted });
  let anchor = anchorKeyId;
  let first = false;
  if (anchor === null) {
    anchor = acceptNew ? null : teamPins.get(pub.id) ?? null;
    if (anchor === null) {
      first = !teamPins.has(pub.id);
      anchor = pub.team_keys[pub.team_keys.length - 1].key_id;
    }
  }
  const current = await checkChain(pub, anchor);
  teamPins.set(pub.id, current.key_id);
  const publicEncryptionKey = b64d(current.public_encryption_key);
  const publicSigningKey = b64d(current.public_signing_key);
  return {
    id: pub.id,
    handle: pub.handle,
    displayName: pub.display_name,
    keyId: current.key_id,
    publicEncryptionKey,
    publicSigningKey,
    safetyCode: await safetyCode(publicEncryptionKey, publicSigningKey),
    firstContact: first,
    // Who answers for the office, as the server says (the public page shows them).
    admins: pub.admins ?? [],
  };
}

export { GrantIntegrityError };
