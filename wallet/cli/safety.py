"""`wallet safety reset`: end every way in to your wallet in one action (issue 19)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from wallet.cli.common import echo_json, fail, friendly, own_vault, passphrase, remember, say
from wallet.client import emergency as emergencylib
from wallet.client import state
from wallet.client.grants import revoke_grant
from wallet.client.journal import fetch_entries, verify
from wallet.client.mandates import revoke_mandate
from wallet.client.safety import ResetInterrupted, emergency_reset, failed_tries, ways_in

safety_app = typer.Typer(
    help="Safety: see every way in to your wallet, end one or all of them at once.",
    no_args_is_help=True,
)


@safety_app.command("reset")
@friendly
def safety_reset(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before starting.")] = False,
    qr: Annotated[
        Path | None, typer.Option(help="Also write the new recovery key as a QR code (PNG).")
    ] = None,
) -> None:
    """Emergency reset: log out every other device, stop every link, access and mandate you
    gave, change your passphrase and make a new recovery key. Your papers stay. Nobody is told."""
    vault = own_vault()
    plan = vault.api.api("GET", "/safety/reset").json()
    say("The emergency reset will, at once:")
    say(f"  - log out every other device and session ({plan['other_sessions']});")
    say(f"  - stop every link ({len(plan['links'])}), every access given to a person or an")
    say(f"    organisation ({len(plan['grants'])}) and every mandate ({len(plan['mandates'])});")
    if plan.get("emergency"):
        say(f"  - end every emergency access you set up ({len(plan['emergency'])});")
    say("  - change your passphrase and make a new recovery key: the old sheet stops working.")
    say("It keeps all your papers, their versions, your notes and your journal.")
    say("Nobody is told: the people who had access see it as ended, as when it expires.")
    if not yes and not typer.confirm("Start the reset now?", default=False):
        fail("Nothing was changed.")
    current = passphrase("Current passphrase")
    new = passphrase("New passphrase", confirm=True, env="WALLET_NEW_PASSPHRASE")
    if len(new) < 10:
        fail("Choose a longer passphrase: at least 10 characters. Nothing was changed.")
    try:
        # Saved after each step: the passphrase step gives this computer a new session.
        result = emergency_reset(vault, current, new, on_step=lambda _step: remember(vault))
    except ResetInterrupted as exc:
        say(str(exc), err=True, multiline=True)
        raise typer.Exit(1) from exc
    remember(vault)
    ended = result.ended
    say(
        f"Done. Ended: {ended['sessions']} other session(s), {ended['links']} link(s), "
        f"{ended['grants']} access(es), {ended['mandates']} mandate(s)."
    )
    if ended.get("emergency"):
        say(f"Emergency access ended: {ended['emergency']}.")
    say("Your passphrase is changed.")
    say("Your NEW recovery key (shown only once, write it down or print it):")
    say(f"  {result.recovery_key}")
    say("The old recovery sheet no longer works: destroy it.")
    if qr:
        import segno  # about 45 ms to import: loaded only when a QR code is drawn

        segno.make(result.recovery_key, error="m").save(str(qr), scale=8, border=4)
        say(f"QR code of the recovery key written to {qr}.")


KINDS = {
    "session": "Session",
    "link": "Link",
    "grant": "Access",
    "org_grant": "Organisation",
    "mandate": "Mandate",
    "emergency": "Emergency",
}


def _seen_file() -> Path:
    return state.wallet_home() / "safety-review.json"


@safety_app.command("review")
@friendly
def safety_review(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Who can see my papers: every way in that exists now (other sessions, links, access
    given to people and organisations, mandates), and failed logins since your last look."""
    vault = own_vault()
    ways = ways_in(vault)
    entries = fetch_entries(vault)
    chain_ok, _note = verify(entries)
    key = f"{vault.api.server}|{vault.account['handle']}"
    seen_path = _seen_file()
    seen: dict[str, int] = json.loads(seen_path.read_text()) if seen_path.exists() else {}
    failed = failed_tries(entries, seen.get(key, 0))
    if entries:
        seen[key] = max(e["seq"] for e in entries)
        seen_path.parent.mkdir(parents=True, exist_ok=True)
        seen_path.write_text(json.dumps(seen))
    if as_json:
        echo_json(
            {
                "ways_in": [w.__dict__ for w in ways],
                "failed_since_last_review": [{"at": e["at"], "event": e["event"]} for e in failed],
                "journal_verified": chain_ok,
            }
        )
        return
    if not ways:
        say("Nobody else can see your papers now: no other session, link, access or mandate.")
    else:
        say("Every way in to your wallet now:")
        for way in ways:
            used = f", last used {way.last_used[:16]}" if way.last_used else ""
            say(f"  {KINDS[way.kind]:12} {way.id}  {way.what}, since {way.since[:10]}{used}")
        say(
            "To end one: wallet safety end KIND ID "
            "(KIND: session, link, grant, org_grant, mandate, emergency)."
        )
        say("To end them all at once: wallet safety reset")
    if failed:
        say(f"Failed logins or recovery tries since your last look: {len(failed)}.")
        for entry in failed:
            say(f"  {entry['at'][:16]}  {entry['event'].replace('_', ' ')}")
    else:
        say("No failed login or recovery try since your last look.")
    if not chain_ok:
        say("WARNING: your journal does not check. Run 'wallet journal --verify'.")


@safety_app.command("end")
@friendly
def safety_end(
    kind: Annotated[
        str, typer.Argument(help="session, link, grant, org_grant, mandate or emergency")
    ],
    item_id: Annotated[str, typer.Argument(metavar="ID")],
) -> None:
    """End one way in, as listed by 'wallet safety review'. Nobody is told."""
    vault = own_vault()
    if kind == "session":
        vault.api.api("DELETE", f"/auth/sessions/{item_id}")
    elif kind == "link":
        vault.covered_change(
            "POST", f"/links/{item_id}/revoke", lambda s: s.revoked_links.add(item_id)
        )
    elif kind in ("grant", "org_grant"):
        revoke_grant(vault, item_id)
    elif kind == "mandate":
        revoke_mandate(vault, item_id)
    elif kind == "emergency":
        emergencylib.end(vault, item_id)
    else:
        fail("KIND is one of: session, link, grant, org_grant, mandate, emergency.")
    say("Ended.")
