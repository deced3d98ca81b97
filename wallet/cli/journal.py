"""`wallet journal`: everything that happened to your data."""

from __future__ import annotations

from typing import Annotated

import typer

from wallet.cli.common import echo_json, friendly, own_vault, say
from wallet.client import journal as journallib
from wallet.client import state


@friendly
def journal(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    as_csv: Annotated[bool, typer.Option("--csv")] = False,
    verify_only: Annotated[bool, typer.Option("--verify", help="Check the hash chain.")] = False,
    show_all: Annotated[
        bool,
        typer.Option(
            "--all", help="Also show routine checks (someone looking at the list you share)."
        ),
    ] = False,
) -> None:
    """Everything that happened to your data, in plain sentences."""
    vault = own_vault()
    entries = journallib.fetch_entries(vault)
    intact, message = journallib.verify(entries)
    if intact:
        head = state.wallet_home() / f"journal-head-{vault.account['id']}.json"
        intact, rewritten = journallib.check_head(entries, head)
        message = rewritten or message
    if verify_only:
        say(message)
        if not intact:
            raise typer.Exit(1)
        return
    rendered = journallib.render(vault, entries)
    if as_json:
        echo_json(rendered)
    elif as_csv:
        # Data for a spreadsheet, exact like --json (its quoting is CSV's job): not through say.
        typer.echo(journallib.to_csv(rendered), nl=False)
    else:
        # What belongs together on one line; routine checks only with --all (--json and
        # --csv keep every entry).
        for entry in journallib.fold(rendered):
            if entry["routine"] and not show_all:
                continue
            mark = "! " if entry["alert"] else "  "
            say(f"{mark}{entry['when']}  {entry['sentence']}")
    if not intact:
        say(message, err=True, fg=typer.colors.RED)
        raise typer.Exit(1)
