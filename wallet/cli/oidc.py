"""`wallet oidc ...`: sign in through your organisation (OpenID Connect), for workers."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from wallet.cli.common import (
    friendly,
    head_pins,
    kdf_pins,
    own_vault,
    passphrase,
    remember,
    say,
    server,
)
from wallet.client import oidc as oidclib
from wallet.client.api import ApiClient

oidc_app = typer.Typer(
    help="Sign in through your organisation (workers). You still need your passphrase.",
    no_args_is_help=True,
)


@oidc_app.command("login")
@friendly
def login(
    code: Annotated[
        str | None, typer.Option(help="The one-time code the sign-in page showed.")
    ] = None,
) -> None:
    """Sign in through your organisation, then open your wallet with your passphrase."""
    api = ApiClient(server())
    if not code:
        say("Open this address in a browser and sign in:")
        say(f"  {oidclib.start_url(api)}")
        code = os.environ.get("WALLET_OIDC_CODE") or typer.prompt(
            "Type the one-time code the page shows", hide_input=True
        )
    vault = oidclib.login_with_code(
        api, code, passphrase("Wallet passphrase"), kdf_pins(), head_pins=head_pins()
    )
    remember(vault)
    say(f"Logged in as {vault.account['handle']} through your organisation.")


@oidc_app.command("link")
@friendly
def link() -> None:
    """Link your organisation's sign-in to this wallet (log in with your passphrase first)."""
    url = oidclib.link_start(own_vault())
    say("Open this address in a browser and sign in with your work account:")
    say(f"  {url}")
    say("The page tells you when the link is done.")


@oidc_app.command("status")
@friendly
def status() -> None:
    """Show whether your organisation's sign-in is linked to this wallet."""
    linked: dict[str, Any] = own_vault().api.api("GET", "/auth/oidc/link").json()
    if not linked["linked"]:
        say("No sign-in is linked. Run 'wallet oidc link' to link yours.")
        return
    say(f"Linked to {linked['issuer']} since {linked['linked_at'][:10]}.")


@oidc_app.command("unlink")
@friendly
def unlink() -> None:
    """Stop signing in to this wallet through your organisation."""
    own_vault().api.api("DELETE", "/auth/oidc/link")
    say("Unlinked. Log in with your handle and passphrase from now on.")
