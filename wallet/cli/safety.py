"""`wallet safety reset`: end every way in to your wallet in one action (issue 19)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wallet.cli.common import fail, friendly, own_vault, passphrase, remember, say
from wallet.client.safety import ResetInterrupted, emergency_reset

safety_app = typer.Typer(
    help="Safety: end every way in to your wallet at once.", no_args_is_help=True
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
    say("Your passphrase is changed.")
    say("Your NEW recovery key (shown only once, write it down or print it):")
    say(f"  {result.recovery_key}")
    say("The old recovery sheet no longer works: destroy it.")
    if qr:
        import segno  # about 45 ms to import: loaded only when a QR code is drawn

        segno.make(result.recovery_key, error="m").save(str(qr), scale=8, border=4)
        say(f"QR code of the recovery key written to {qr}.")
