"""`wallet org ...`: organisations (CPAS, social office, shelter, NGO), members and team key."""

from __future__ import annotations

from typing import Annotated

import typer

from wallet.cli.common import echo_safety_code, friendly, listed, own_vault, pins, say
from wallet.client import organisations as orglib
from wallet.client.api import ApiError
from wallet.client.contacts import safety_code
from wallet.crypto.encoding import b64d

org_app = typer.Typer(help="Organisations and their members.", no_args_is_help=True)
member_app = typer.Typer(help="Add or remove members.", no_args_is_help=True)
org_app.add_typer(member_app, name="member")


@org_app.command("create")
@friendly
def org_create(name: Annotated[str, typer.Argument(help="The office's name.")]) -> None:
    """Create an organisation. You are its first admin."""
    created = orglib.create_org(own_vault(), name)
    say(f"Organisation created: {created.handle}")
    say(f"Team safety code: {created.safety_code}")
    say(
        "People who give access to the office compare this code with theirs. "
        f"Add colleagues with 'wallet org member add {created.handle} HANDLE'."
    )


@org_app.command("ls")
@friendly
def org_ls(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the organisations you are a member of."""
    orgs = orglib.my_orgs(own_vault())
    if listed(orgs, as_json, "You are in no organisation."):
        return
    for org in orgs:
        say(
            f"{org['handle']}  {org['display_name']}  you: {org['role']}  "
            f"{org['members']} member(s)"
        )


@org_app.command("show")
@friendly
def org_show(org: str) -> None:
    """Name, team safety code and admins; members also see every member and role."""
    vault = own_vault()
    try:
        detail = orglib.org_detail(vault, org)
    except ApiError as exc:
        if exc.status != 404:
            raise
        # Not a member: what anyone may check before trusting the office.
        public = orglib.verified_team(vault, org, pins=pins())
        say(f"{public.display_name} ({public.handle})")
        say(f"Team safety code: {public.safety_code}")
        say(f"Admins: {', '.join(public.admins) or 'none'}")
        if public.first_contact:
            say("First time with this organisation: compare the code with the office.")
        return
    team = orglib.open_team_key(vault, detail, pins())
    say(f"{detail['display_name']} ({detail['handle']}), you are {detail['role']}")
    say(
        f"Team safety code: "
        f"{orglib.team_safety_code(team.keys.public_encryption_key, team.keys.public_signing_key)}"
    )
    for member in detail["members"]:
        say(f"  {member['keys']['handle']:30} {member['role']}")


@org_app.command("safety-code")
@friendly
def org_safety_code(org: str) -> None:
    """The team safety code of an organisation, to compare before giving it access."""
    team = orglib.verified_team(own_vault(), org, pins=pins())
    say(team.safety_code)
    if team.first_contact:
        say("First time with this organisation: compare the code with the office.")


@org_app.command("events")
@friendly
def org_events(org: str) -> None:
    """Who joined, left, or changed the team key."""
    for event in orglib.org_events(own_vault(), org):
        who = event["actor"] or "a deleted account"
        about = f" {event['subject']}" if event["subject"] else ""
        say(f"{event['at'][:16]}  {who}: {event['event']}{about}")


@member_app.command("add")
@friendly
def member_add(
    org: str,
    handle: str,
    role: Annotated[str, typer.Option(help="admin or worker.")] = "worker",
    accept_new_key: Annotated[
        bool, typer.Option(help="Only after checking the safety code in person.")
    ] = False,
) -> None:
    """Add a colleague. Admins only."""
    member, first = orglib.add_member(
        own_vault(), org, handle, role=role, pins=pins(), accept_new_key=accept_new_key
    )
    say(f"{member['handle']} is now {role} of {org}.")
    code = safety_code(b64d(member["public_encryption_key"]), b64d(member["public_signing_key"]))
    echo_safety_code(member["handle"], code, first)


@member_app.command("role")
@friendly
def member_role(
    org: str,
    handle: str,
    role: Annotated[str, typer.Argument(help="admin or worker.")],
) -> None:
    """Make a member an admin or a worker. Admins only."""
    changed = orglib.change_role(own_vault(), org, handle, role)
    say(f"{changed['handle']} is now {changed['role']} of {org}.")


@member_app.command("remove")
@friendly
def member_remove(org: str, handle: str) -> None:
    """Remove a member and change the team key. Admins only."""
    rotation = orglib.remove_member(own_vault(), org, handle, pins=pins())
    say(
        f"{handle} is no longer a member of {org}. The team key was changed: "
        f"{rotation.documents} document key(s), {rotation.fields} profile key(s) and "
        f"{rotation.grants} access(es) were sealed again for {rotation.members} member(s)."
    )
    say("They can open nothing more. What they already downloaded cannot be taken back.")
    say(f"New team safety code: {rotation.safety_code}")
