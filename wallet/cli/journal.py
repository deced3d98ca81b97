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
        for entry in rendered:
            mark = "! " if entry["alert"] else "  "
            say(f"{mark}{entry['when']}  {entry['sentence']}")
    if not intact:
        say(message, err=True, fg=typer.colors.RED)
        raise typer.Exit(1)
