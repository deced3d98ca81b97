// A worker's inbox (GET /api/v1/inbox): standing grants to this person and to their teams,
// the requests they sent with their status, and the links they opened in the last 15 minutes.
// Every sealed part is opened here and checked against its signer, like wallet/client:
// a grant's purpose against the owner's signature, a request against our own, an answer
// against the owner's. A grant to a team is opened with this member's copy of the team key
// (sealed to the member by an admin, who signed it), like wallet/client/organisations.py.
import { getJson } from "../api.js";
import { b64d, fromUtf8 } from "../crypto/encoding.js";
import { verify } from "../crypto/signing.js";
import { openSealed } from "../crypto/wrap.js";
import { checkPin, grantInfo } from "../grants.js";
import { formatDate, locale, t } from "../i18n.js";
import { infoBytes, KIND, LABELS } from "../protocol.js";
import { page, requireSession } from "../shell.js";
import { teamKey } from "../teams.js";
import { el, messageFor, PlainError, showError } from "../ui.js";

const requestInfo = (id, keyId) => infoBytes(LABELS.REQUEST, id, keyId);
const answerInfo = (id, keyId) => infoBytes(LABELS.REQUEST_ANSWER, id, keyId);

class Changed extends PlainError {
  constructor() {
    super("inbox.changed");
  }
}

/** Opens what was sealed for us and checks who signed it; the parsed JSON or Changed. */
async function openSigned(keys, sealed, info, signerKey, signature) {
  try {
    const message = await openSealed(await keys.encryptionKey(), b64d(sealed), info);
    verify(signerKey, message, b64d(signature));
    return JSON.parse(fromUtf8(message));
  } catch {
    throw new Changed();
  }
}

async function openGrant(keys, grant) {
  await checkPin(grant.owner.handle, grant.owner);
  const descriptor = await openSigned(
    keys,
    grant.sealed,
    grantInfo(grant.id, await keys.keyId()),
    b64d(grant.owner.public_signing_key),
    grant.signature,
  );
  if (descriptor.grant_id !== grant.id || descriptor.owner !== grant.owner.handle) throw new Changed();
  return descriptor;
}

/** A grant to a team: its descriptor opened with the team key, signed by the owner. */
async function openTeamGrant(team, grant) {
  await checkPin(grant.owner.handle, grant.owner);
  if (grant.grantee.key_id !== team.keyId) throw new Changed();
  const descriptor = await openSigned(
    team.keys,
    grant.sealed,
    grantInfo(grant.id, team.keyId),
    b64d(grant.owner.public_signing_key),
    grant.signature,
  );
  if (descriptor.grant_id !== grant.id || descriptor.grantee_org !== team.orgId) throw new Changed();
  return descriptor;
}

async function openRequest(keys, row, me) {
  const asked = await openSigned(
    keys,
    row.sealed,
    requestInfo(row.id, await keys.keyId()),
    keys.publicSigningKey,
    row.signature,
  );
  if (
    asked.kind !== KIND.DOCUMENT_REQUEST ||
    asked.request_id !== row.id ||
    asked.requester !== me ||
    asked.owner !== row.owner.handle ||
    row.due_at.slice(0, 10) !== asked.due
  ) {
    throw new Changed();
  }
  let answer = null;
  if (row.answer) {
    await checkPin(row.owner.handle, row.owner);
    answer = await openSigned(
      keys,
      row.answer,
      answerInfo(row.id, await keys.keyId()),
      b64d(row.owner.public_signing_key),
      row.answer_signature,
    );
    if (answer.kind !== KIND.REQUEST_ANSWER || answer.request_id !== row.id) throw new Changed();
  }
  return { asked, answer };
}

const typeList = (types) => types.map((type) => t(`types.${type}`)).join(", ");

function scopeText(scope) {
  const parts = [];
  if (scope.types?.length) parts.push(typeList(scope.types));
  if (scope.documents?.length) parts.push(t("inbox.chosen_documents", { n: scope.documents.length }));
  if (scope.fields?.length) parts.push(t("inbox.details", { n: scope.fields.length }));
  return parts.join(" · ");
}

const until = (value) => (value ? t("inbox.until", { date: formatDate(value) }) : t("inbox.no_end"));

function grantCard(grant, descriptor) {
  return el(
    "li",
    { dataset: { grant: grant.id } },
    el("h3", { text: t("inbox.from", { handle: grant.owner.handle }) }),
    descriptor && el("p", { text: t("inbox.purpose", { purpose: descriptor.purpose || "—" }) }),
    descriptor && scopeText(descriptor.scope) && el("p", { text: scopeText(descriptor.scope) }),
    el("p", { class: "details", text: `${t("inbox.documents", { n: grant.documents })} · ${until(grant.expires_at)}` }),
  );
}

function teamCard(grant, descriptor) {
  return el(
    "li",
    { dataset: { grant: grant.id } },
    el("h3", { text: t("inbox.from_to_team", { handle: grant.owner.handle, team: grant.organisation.display_name }) }),
    el("p", {}, el("a", { class: "tap-link", href: `/o/${encodeURIComponent(grant.organisation.handle)}`, text: t("org.public_page") })),
    el("p", { text: t("inbox.purpose", { purpose: descriptor.purpose || "—" }) }),
    scopeText(descriptor.scope) && el("p", { text: scopeText(descriptor.scope) }),
    el("p", { class: "details", text: `${t("inbox.documents", { n: grant.documents })} · ${until(grant.expires_at)}` }),
  );
}

function requestCard(row, opened) {
  const status = row.status;
  return el(
    "li",
    { dataset: { request: row.id } },
    el("h3", {}, t("inbox.asked", { handle: row.owner.handle }), " ", el("span", { class: `state ${status}`, text: t(`inbox.status.${status}`) })),
    el("p", { text: t("inbox.purpose", { purpose: opened.asked.purpose || "—" }) }),
    el("p", { text: typeList(opened.asked.types || []) }),
    el("p", { class: "details", text: t("inbox.due", { date: formatDate(opened.asked.due) }) }),
    opened.answer?.reason && el("p", { text: t("inbox.answer", { reason: opened.answer.reason }) }),
  );
}

function linkCard(link) {
  return el(
    "li",
    { dataset: { link: link.link_id } },
    el("h3", { text: t("inbox.link_from", { handle: link.owner_handle }) }),
    el("p", { class: "details", text: t("inbox.link_until", { time: new Date(link.download_until).toLocaleTimeString(locale()) }) }),
  );
}

function fill(main, listSelector, emptySelector, items) {
  main.querySelector(listSelector).replaceChildren(...items);
  main.querySelector(emptySelector).hidden = items.length > 0;
}

page("inbox", async (main, ctx) => {
  const session = requireSession(ctx);
  if (!session) return;
  const status = main.querySelector("[data-status]");
  try {
    const inbox = await getJson("/inbox");
    if (ctx.signal.aborted) return;
    const { keys, account } = session;
    const grants = [];
    for (const grant of inbox.grants) grants.push(grantCard(grant, await openGrant(keys, grant)));
    const requests = [];
    for (const row of inbox.requests) requests.push(requestCard(row, await openRequest(keys, row, account.handle)));
    if (ctx.signal.aborted) return;
    fill(main, "[data-grants]", "[data-grants-empty]", grants);
    const teams = new Map();
    const teamGrants = [];
    for (const grant of inbox.organisation_grants) {
      const orgId = grant.organisation.id;
      if (!teams.has(orgId)) teams.set(orgId, await teamKey(orgId));
      teamGrants.push(teamCard(grant, await openTeamGrant(teams.get(orgId), grant)));
    }
    if (ctx.signal.aborted) return;
    fill(main, "[data-team-grants]", "[data-team-empty]", teamGrants);
    fill(main, "[data-requests]", "[data-requests-empty]", requests);
    fill(main, "[data-links]", "[data-links-empty]", inbox.links.map(linkCard));
    status.textContent = "";
    main.querySelector("[data-inbox]").hidden = false;
  } catch (error) {
    status.textContent = "";
    showError(main, messageFor(error));
  }
});
