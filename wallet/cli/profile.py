"""`wallet profile ...`: your encrypted profile record."""

from __future__ import annotations

from typing import Annotated

import typer

from wallet.cli.common import fail, friendly, listed, own_vault, say
from wallet.protocol.catalogue import PROFILE_FIELDS

profile_app = typer.Typer(help="Your encrypted profile record.", no_args_is_help=True)


@profile_app.command("set")
@friendly
def profile_set(name: str, value: str) -> None:
    """Set one field of your profile (encrypted on this computer)."""
    if name not in PROFILE_FIELDS:
        fail(f"'{name}' is not a profile field. Use one of: {', '.join(PROFILE_FIELDS)}.")
    own_vault().set_profile_field(name, value)
    say(f"Saved {name}.")


@profile_app.command("show")
@friendly
def profile_show(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show your profile."""
    fields = own_vault().profile()
    if listed(
        fields,
        as_json,
        "Your profile is empty. Add a field with 'wallet profile set first_name Marie'.",
        ensure_ascii=False,
    ):
        return
    for name in PROFILE_FIELDS:
        if name in fields:
            say(f"{name}: {fields[name]}")


@profile_app.command("rm")
@friendly
def profile_rm(name: str) -> None:
    """Remove one field from your profile."""
    own_vault().remove_profile_field(name)
    say(f"Removed {name}.")
