"""The emergency reset on the owner's device (issue 19): in one action, end every way in that
someone else may hold, then change the passphrase and issue a new recovery key.

1. Access: the server lists what is still open (other sessions, grants to people and to
   organisations, mandates, links; a request's answer is a grant); this device signs the next
   vault head listing all of it as revoked, and the server ends it all in one transaction under
   that head (wallet/safety). A grantee, proxy or link holder then gets what they get for any
   revoked access, and an operator who restores the old rows is refused by their clients.
2. Passphrase: the private keys are locked under the new passphrase; every session ends.
3. Recovery key: a new one; the old sheet stops working.

Nobody is told. Papers, versions, notes and the journal stay; the journal gets a
`safety_reset` line. Each step can be run again: a reset that stopped half-way is finished by
running it again, and the error says which steps were done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from wallet.client import emergency
from wallet.client.api import ApiError
from wallet.client.errors import VaultError
from wallet.client.vault import Vault
from wallet.client.vaulthead import STALE_CODE
from wallet.protocol.vault_state import VaultState

STEPS = {
    "access": "every other session, link, grant and mandate ended",
    "passphrase": "passphrase changed",
    "recovery_key": "new recovery key made",
}
PLAN_ATTEMPTS = 5


@dataclass
class ResetResult:
    recovery_key: str
    ended: dict[str, int]


class ResetInterrupted(VaultError):
    """The reset stopped half-way: `done` lists the steps that were done."""

    def __init__(self, done: list[str], reason: str) -> None:
        did = "; ".join(STEPS[step] for step in done) or "nothing yet"
        todo = "; ".join(text for step, text in STEPS.items() if step not in done)
        super().__init__(
            f"The reset stopped: {reason}\nDone: {did}.\nNot done yet: {todo}.\n"
            "Run the reset again to finish it."
        )
        self.done = done


def end_every_access(vault: Vault) -> dict[str, int]:
    """Step 1, in one server transaction under the next signed head. If something was given
    meanwhile (the head no longer matches), the plan is read again."""
    for attempt in range(1, PLAN_ATTEMPTS + 1):
        plan = vault.api.api("GET", "/safety/reset").json()

        def revoke_all(state: VaultState, plan: dict[str, Any] = plan) -> None:
            state.revoked_grants.update(plan["grants"])
            state.revoked_mandates.update(plan["mandates"])
            state.revoked_links.update(plan["links"])

        try:
            ended: dict[str, int] = vault.covered_change("POST", "/safety/reset", revoke_all).json()
            return ended
        except ApiError as exc:
            if exc.code != STALE_CODE or attempt == PLAN_ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # the loop returns or raises


def emergency_reset(
    vault: Vault,
    current_passphrase: str,
    new_passphrase: str,
    on_step: Callable[[str], None] | None = None,
) -> ResetResult:
    """The three steps, in order. A wrong current passphrase stops before anything is done."""
    vault.current_auth_key(current_passphrase)  # raises VaultError: nothing was changed
    done: list[str] = []
    try:
        ended = end_every_access(vault)
        done.append("access")
        if on_step:
            on_step("access")
        vault.change_passphrase(current_passphrase, new_passphrase)
        done.append("passphrase")
        if on_step:
            on_step("passphrase")
        text = vault.new_recovery_key(new_passphrase)
        done.append("recovery_key")
        if on_step:
            on_step("recovery_key")
    except (ApiError, VaultError, httpx.HTTPError) as exc:
        raise ResetInterrupted(done=done, reason=str(exc)) from exc
    return ResetResult(recovery_key=text, ended=ended)


# --- who can see my papers (review) -------------------------------------------------------------

FAILED_EVENTS = ("login_failed", "recovery_failed", "oidc_login_failed")


@dataclass
class WayIn:
    kind: str  # session, link, grant, org_grant, mandate, emergency
    id: str
    what: str  # plain words: who or what it reaches
    since: str
    last_used: str = ""


def ways_in(vault: Vault) -> list[WayIn]:
    """Every way in that exists now, as the server lists it and the owner's head agrees: other
    sessions, links, grants (people and organisations; a request's answer is a grant) and
    mandates that are still active."""
    found: list[WayIn] = []
    for row in vault.api.api("GET", "/auth/sessions").json():
        if not row["current"]:
            found.append(
                WayIn(
                    "session",
                    row["id"],
                    f"session on a {row.get('device') or 'device'}",
                    row["created_at"],
                    row["last_seen_at"],
                )  # fmt: skip
            )
    for link in vault.api.api("GET", "/links").json():
        if link["state"] == "active" and not vault.is_revoked("links", link["id"]):
            what = f"link, {link['uses_left']} of {link['uses_total']} uses left"
            found.append(WayIn("link", link["id"], what, link["created_at"]))
    for grant in vault.api.api("GET", "/grants").json():
        if grant["state"] == "active" and not vault.is_revoked("grants", grant["id"]):
            if grant.get("organisation"):
                kind, who = "org_grant", grant["organisation"]["handle"]
            else:
                kind, who = "grant", grant["grantee"]["handle"]
            what = f"{who}: {grant['documents']} document(s)"
            found.append(WayIn(kind, grant["id"], what, grant["created_at"]))
    for mandate in vault.api.api("GET", "/mandates").json():
        if mandate["state"] == "active" and not vault.is_revoked("mandates", mandate["id"]):
            who = (mandate.get("proxy") or {}).get("handle", "?")
            what = f"{who} may {', '.join(mandate['actions'])}"
            found.append(WayIn("mandate", mandate["id"], what, mandate["created_at"]))
    # Emergency access: checked against the owner's signature and head (an ended one is not
    # a way in, whatever the server says).
    for row in emergency.given(vault):
        if row["state"] in ("standby", "waiting", "released"):
            what = (
                f"{row['trusted']['handle']} may ask to "
                f"{'read your papers' if row['access'] == 'view' else 'choose a new passphrase'}"
                f" after {row['wait_days']} day(s)"
                + {"waiting": ": ASKED, waiting", "released": ": ACCESS OPEN"}.get(row["state"], "")
            )
            found.append(WayIn("emergency", row["id"], what, row["created_at"]))
    return found


def failed_tries(entries: list[dict[str, Any]], after_seq: int) -> list[dict[str, Any]]:
    """Failed logins and recovery tries in the (verified) journal after `after_seq`."""
    return [e for e in entries if e["seq"] > after_seq and e["event"] in FAILED_EVENTS]
