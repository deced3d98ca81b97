// Organisations in the browser, like wallet/client/organisations.py: a member opens their copy
// of the team key (sealed to them by an admin, who signed it) and reads grants to the team
// with it; an owner checks that a team's current key follows, by signed statements, from a
// key they trust (the signed team-key chain). The team key stays in memory, like the account's.
import { getJson } from "./api.js";
import { b64d, b64e, canonicalJson, fromUtf8, sha256Hex } from "./crypto/encoding.js";
import { AccountKeys } from "./crypto/keys.js";
import { verify } from "./crypto/signing.js";
import { keyId, openSealed } from "./crypto/wrap.js";
import { checkPin, GrantIntegrityError, KeyChanged, openDescriptor } from "./grants.js";
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

export { GrantIntegrityError };
