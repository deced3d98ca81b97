"""`wallet account ...`, `wallet login` and `wallet logout`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from wallet.cli.attention import summary as attention_summary
from wallet.cli.common import (
    fail,
    friendly,
    head_pins,
    kdf_pins,
    own_vault,
    passphrase,
    remember,
    say,
    server,
)
from wallet.cli.emergency import notice as emergency_notice
from wallet.cli.proxy import show_banner
from wallet.client import state
from wallet.client.api import ApiClient
from wallet.client.contacts import own_safety_code
from wallet.client.vault import Vault

account_app = typer.Typer(help="Create, recover or delete your account.", no_args_is_help=True)


@account_app.command("create")
@friendly
def account_create(
    handle: Annotated[
        str | None, typer.Option(help="A name that does not reveal who you are.")
    ] = None,
    recovery_qr: Annotated[
        Path | None, typer.Option(help="Also write the recovery key as a QR code (PNG).")
    ] = None,
) -> None:
    """Create a wallet. No e-mail, phone number or real name is needed."""
    api = ApiClient(server())
    if not handle:
        # In the terminal's language, like the web page's (LANGUAGE, LC_ALL, LANG: fr_BE -> fr).
        locale = next(
            (os.environ[n] for n in ("LANGUAGE", "LC_ALL", "LANG") if os.environ.get(n)), ""
        )
        lang = locale.split(":")[0].split(".")[0].split("_")[0].lower() or "en"
        handle = api.api("GET", "/accounts/params", params={"lang": lang}).json()[
            "suggested_handle"
        ]
        say(f"Your handle: {handle}")
    new = passphrase("Choose a passphrase", confirm=True)
    if len(new) < 10:
        fail("Choose a longer passphrase: at least 10 characters. A few words in a row work well.")
    vault, recovery_text = Vault.create_account(api, handle, new, kdf_pins(), head_pins())
    remember(vault)
    say(f"Your wallet '{handle}' is ready.")
    say("")
    say("Your recovery key (shown only once, write it down or print it):")
    say(f"  {recovery_text}")
    say("With it you can choose a new passphrase if you forget yours. Keep it somewhere safe.")
    if recovery_qr:
        import segno  # about 45 ms to import: loaded only when a QR code is drawn

        segno.make(recovery_text, error="m").save(str(recovery_qr), scale=8, border=4)
        say(f"QR code of the recovery key written to {recovery_qr}.")


@friendly
def login(
    handle: Annotated[str, typer.Option(help="Your handle.")],
    passphrase_changed: Annotated[
        bool,
        typer.Option(
            "--passphrase-changed",
            help="You changed your passphrase on another device since you last logged in here.",
        ),
    ] = False,
) -> None:
    """Log in and keep the session on this computer until 'wallet logout'."""
    vault = Vault.login(
        ApiClient(server()),
        handle,
        passphrase(),
        kdf_pins(),
        new_salt_ok=passphrase_changed,
        head_pins=head_pins(),
    )
    remember(vault)
    say(f"Logged in as {handle}.")
    show_banner(vault)  # what people with a mandate did for you since your last login
    emergency_notice(vault)  # a request for emergency access, at every login
    attention_summary(vault, short=True)  # expiring papers, waiting requests, ending access


@friendly
def logout() -> None:
    """End the session and remove the keys from this computer."""
    saved = state.load()
    if saved:
        Vault(
            ApiClient(server(saved), token=saved["token"]), saved["keys"], saved["account"]
        ).logout()
    state.clear()
    say("Logged out. Your keys are no longer on this computer.")


@account_app.command("passphrase")
@friendly
def account_passphrase() -> None:
    """Change your passphrase. Your documents stay as they are."""
    vault = own_vault()
    current = passphrase("Current passphrase")
    new = passphrase("New passphrase", confirm=True, env="WALLET_NEW_PASSPHRASE")
    vault.change_passphrase(current, new)
    remember(vault)
    say("Your passphrase is changed. Other sessions were logged out.")


@account_app.command("recovery-key")
@friendly
def account_recovery_key(
    qr: Annotated[
        Path | None, typer.Option(help="Also write the new recovery key as a QR code (PNG).")
    ] = None,
) -> None:
    """Make a new recovery key. The old recovery sheet stops working at once."""
    vault = own_vault()
    text = vault.new_recovery_key(passphrase("Current passphrase"))
    say("Your NEW recovery key (shown only once, write it down or print it):")
    say(f"  {text}")
    say("The old recovery sheet no longer works: destroy it.")
    if qr:
        import segno  # about 45 ms to import: loaded only when a QR code is drawn

        segno.make(text, error="m").save(str(qr), scale=8, border=4)
        say(f"QR code of the recovery key written to {qr}.")


@account_app.command("recover")
@friendly
def account_recover(
    handle: Annotated[str, typer.Option(help="Your handle.")],
    recovery_key: Annotated[
        str | None,
        typer.Option(envvar="WALLET_RECOVERY_KEY", help="The key from your recovery sheet."),
    ] = None,
) -> None:
    """Choose a new passphrase with your recovery key."""
    key_text = recovery_key or typer.prompt("Recovery key", hide_input=True)
    new = passphrase("New passphrase", confirm=True, env="WALLET_NEW_PASSPHRASE")
    vault = Vault.recover(ApiClient(server()), handle, key_text, new, kdf_pins(), head_pins())
    remember(vault)
    say("Your new passphrase is set. You are logged in.")


@account_app.command("delete")
@friendly
def account_delete(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask again.")] = False,
) -> None:
    """Delete your wallet for good: keys, documents and profile."""
    vault = own_vault()
    if not yes:
        typer.confirm(
            "This deletes all your documents for good. Nobody can bring them back. Continue?",
            abort=True,
        )
    vault.delete_account(passphrase())
    state.clear()
    say("Your wallet is deleted. Nothing of it can be opened any more.")


@account_app.command("safety-code")
@friendly
def safety_code() -> None:
    """Show your safety code, to compare with someone who gives you access."""
    say(own_safety_code(own_vault()))
