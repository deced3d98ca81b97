"""`wallet oidc ...`: sign in through your organisation (OpenID Connect), for workers."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

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


@oidc_app.command("jwks")
@friendly
def jwks(
    key_file: Annotated[
        Path | None,
        typer.Option(
            envvar="WALLET_OIDC_CLIENT_KEY_FILE",
            help="The wallet's private key (PEM), as the server uses it.",
        ),
    ] = None,
) -> None:
    """For the operator: print the public key set (JWKS) to give the organisation's IT team,
    when the wallet proves itself with a key (WALLET_OIDC_CLIENT_AUTH=private_key_jwt)."""
    # Only this operator command reads the server's settings: not loaded for the others.
    from wallet.settings import load_oidc_client_key

    if key_file is None:
        fail("Give the key file with --key-file, or set WALLET_OIDC_CLIENT_KEY_FILE.")
    try:
        key = load_oidc_client_key(key_file)
    except ValueError as exc:
        fail(f"{str(exc)[0].upper()}{str(exc)[1:]}.")
    typer.echo(json.dumps(key.public_jwks(), indent=2))
