"""The `wallet` command: the service (serve, migrate, sweep) and the owner's client.

This module builds the root app from one module per command group; `app` is the root Typer
app and `main` the console entry point (`wallet = "wallet.cli:main"`)."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from wallet.cli import (
    account,
    attention,
    documents,
    emergency,
    grants,
    journal,
    notes,
    oidc,
    operator,
    orgs,
    profile,
    proxy,
    requests,
    safety,
    share,
)
from wallet.cli.common import ctx

COMMAND_LINE = "wallet.command_line"


class WalletGroup(TyperGroup):
    """The root command. It keeps the arguments it was given: under `--for`, what follows
    'share' or 'proxy' decides, and the root callback only sees the first sub-command."""

    def parse_args(self, context: Any, args: list[str]) -> list[str]:
        context.meta[COMMAND_LINE] = list(args)
        return super().parse_args(context, args)


app = typer.Typer(
    cls=WalletGroup,
    help="Your personal document wallet. Only you hold the keys.",
    no_args_is_help=True,
)


def _after_command(*_args: Any, **_kwargs: Any) -> None:
    if ctx.for_owner:
        proxy.finish_acting()


@app.callback(result_callback=_after_command)
def main_options(
    context: typer.Context,
    server: Annotated[
        str | None, typer.Option(help="Wallet server address.", envvar="WALLET_SERVER")
    ] = None,
    for_owner: Annotated[
        str | None,
        typer.Option(
            "--for",
            help="Act for this person under the mandate they gave you: ls, get, upload, share.",
        ),
    ] = None,
) -> None:
    ctx.reset(server, for_owner)
    if for_owner:
        proxy.refuse_under_mandate(context.invoked_subcommand, context.meta[COMMAND_LINE])
    logging.getLogger("httpx").setLevel(logging.WARNING)


# The order here is the order of 'wallet --help': commands first, then command groups.
app.command()(operator.serve)
app.command()(operator.migrate)
app.command()(operator.sweep)
app.command()(documents.types)
app.command()(account.login)
app.command()(account.logout)
app.command()(documents.upload)
app.command("ls")(documents.list_documents)
app.command()(documents.versions)
app.command()(documents.get)
app.command("rm")(documents.remove)
app.command()(documents.export)
app.command("journal")(journal.journal)
app.command("inbox")(requests.inbox)
app.command("attention")(attention.attention)
app.command("ics")(attention.ics)

app.add_typer(account.account_app, name="account")
app.add_typer(profile.profile_app, name="profile")
app.add_typer(share.share_app, name="share")
app.add_typer(grants.grant_app, name="grant")
app.add_typer(grants.received_app, name="received")
app.add_typer(oidc.oidc_app, name="oidc")
app.add_typer(proxy.proxy_app, name="proxy")
app.add_typer(orgs.org_app, name="org")
app.add_typer(requests.request_app, name="request")
app.add_typer(notes.note_app, name="note")
app.add_typer(safety.safety_app, name="safety")
app.add_typer(emergency.emergency_app, name="emergency")


def main() -> None:
    app()


__all__ = ["app", "main"]
