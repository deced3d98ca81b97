"""Who sent a share link: the server names the account that made it from its own records, and
the redeemer's client refuses a link whose signed preview or package names anyone else.

The attacks are carried out as a hostile account and a hostile operator would, against the
server as a real process: an account that makes a link "from" another real account, and an
operator who edits the link row to point at another creator. Each refusal happens before the
redeem, so the one-shot link is not used up.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import TEST_PASSPHRASE, LiveServer, run_cli
from tests.test_cli import assert_plain_failure
from tests.test_cli_sharing import person
from tests.test_grants import write_file
from wallet.client import Vault
from wallet.client.api import ApiClient
from wallet.client.links import create_link, parse_link
from wallet.client.vault import DocumentInfo, LinkTerms, VersionInfo
from wallet.crypto import links as linkcrypto
from wallet.crypto.encoding import b64d, b64e, canonical_json
from wallet.crypto.keys import AccountKeys

NOT_VERIFIED = "Sender not verified"


class Impostor:
    """The client's own link maker, used by account A to write someone else into the link:
    it signs with A's key (the server accepts nothing else from A) but names `owner`."""

    def __init__(self, vault: Vault, owner: dict[str, str], proxy: dict[str, Any] | None = None):
        self.vault = vault
        self.api: ApiClient = vault.api
        self.keys: AccountKeys = vault.keys
        self.terms = LinkTerms(owner=owner, proxy=proxy)

    def list_documents(self) -> list[DocumentInfo]:
        return self.vault.list_documents()

    def versions(self, document_id: str) -> list[VersionInfo]:
        return self.vault.versions(document_id)

    def profile(self) -> dict[str, str]:
        return self.vault.profile()

    def link_terms(self) -> LinkTerms:
        return self.terms


@dataclass
class People:
    server: LiveServer
    attacker: Vault  # account A, hostile
    document_id: str  # one of A's documents
    victim: str  # account B's handle: a real account, e.g. a social service
    victim_env: dict[str, str]
    reader: dict[str, str]  # someone who received the link, no account
    tmp: Path

    def victim_keys(self) -> dict[str, Any]:
        return self.attacker.api.api("GET", f"/people/{self.victim}").json()

    def uses_left(self, link_id: str) -> int:
        with create_engine(self.server.database.url).connect() as db:
            return int(
                db.execute(
                    text("SELECT uses_left FROM share_link WHERE id = :id"), {"id": link_id}
                ).scalar_one()
            )


@pytest.fixture
def people(cli_env: dict[str, str], live_server: LiveServer, tmp_path: Path) -> Iterator[People]:
    victim = f"cpas-{secrets.token_hex(4)}"
    victim_env = person(cli_env, tmp_path, "victim")
    run_cli(victim_env, "account", "create", "--handle", victim)
    attacker, _recovery = Vault.create_account(
        ApiClient(live_server.url), f"mallory-{secrets.token_hex(4)}", TEST_PASSPHRASE
    )
    source = write_file(tmp_path / "invoice.pdf", "pay this invoice to IBAN XX00")
    document_id, _version = attacker.upload(source, "other", "Invoice")
    yield People(
        live_server,
        attacker,
        document_id,
        victim,
        victim_env,
        person(cli_env, tmp_path, "reader"),
        tmp_path,
    )


def fake_authorisation(owner: dict[str, str], proxy_key: str) -> dict[str, str]:
    """A 'mandate' from the victim to the attacker, signed by a key the attacker made up."""
    forger = AccountKeys.generate()
    message = canonical_json(
        {
            "kind": "mandate-authorisation",
            "proxy_signing_key": proxy_key,
            "actions": ["share", "view"],
            "owner": owner["handle"],
        }
    )
    return {
        "authorisation": b64e(message),
        "authorisation_signature": b64e(forger.signing_key.sign(message).signature),
    }


def raw_redeem(server: str, url: str) -> httpx.Response:
    """The redeem a modified client would make without checking anything."""
    link = parse_link(url)
    with httpx.Client(base_url=server, timeout=30) as http:
        challenge = http.post(f"/api/v1/links/{link.link_id}/challenge").json()
        message = linkcrypto.challenge_message(link.link_id, b64d(challenge["nonce"]))
        signed = linkcrypto.proof_key(link.secret, link.link_id).sign(message).signature
        return http.post(
            f"/api/v1/links/{link.link_id}/redeem",
            json={"challenge_id": challenge["challenge_id"], "proof": b64e(signed)},
        )


def assert_refused(people: People, url: str, folder: str) -> None:
    """`wallet share check` and `wallet share open` both refuse, and never say 'Shared by'."""
    checked = run_cli(people.reader, "share", "check", url, check=False)
    assert_plain_failure(checked, NOT_VERIFIED, "not used up")
    assert "Shared by" not in checked.stdout
    out = people.tmp / folder
    opened = run_cli(people.reader, "share", "open", url, "-o", str(out), check=False)
    assert_plain_failure(opened, NOT_VERIFIED)
    assert "Shared by" not in opened.stdout
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize(
    "claim", ["victims-handle-and-key", "victims-handle-own-key", "proxy-for-the-victim"]
)
def test_a_link_made_by_one_account_that_names_another_is_refused_and_not_used(
    people: People, claim: str
) -> None:
    attacker = people.attacker
    own_key = b64e(attacker.keys.public_signing_key)
    victim_key = people.victim_keys()["public_signing_key"]
    proxy = None
    if claim == "victims-handle-and-key":
        owner = {"handle": people.victim, "signing_key": victim_key}
    elif claim == "victims-handle-own-key":
        owner = {"handle": people.victim, "signing_key": own_key}
    else:  # "the attacker, acting for the victim", with a mandate the victim never signed
        owner = {"handle": people.victim, "signing_key": victim_key}
        proxy = {
            "handle": attacker.account["handle"],
            "signing_key": own_key,
            **fake_authorisation(owner, own_key),
        }
    link = create_link(Impostor(attacker, owner, proxy), [people.document_id], uses=1)
    link_id = link.id

    assert_refused(people, link.url, "opened")
    assert people.uses_left(link_id) == 1  # nothing was used
    # The refusal is the redeemer's: the server would still let the one use through.
    redeemed = raw_redeem(people.server.url, link.url)
    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json()["sender"]["handle"] == attacker.account["handle"]
    assert redeemed.json()["on_behalf_of"] is None
    assert people.uses_left(link_id) == 0


def account_id(people: People, handle: str) -> str:
    with create_engine(people.server.database.url).connect() as db:
        return str(
            db.execute(text("SELECT id FROM account WHERE handle = :h"), {"h": handle}).scalar_one()
        )


def set_link_row(people: People, link_id: str, **values: str | None) -> None:
    engine = create_engine(people.server.database.url)
    with engine.begin() as db:
        assignments = ", ".join(f"{name} = :{name}" for name in values)
        db.execute(
            text(f"UPDATE share_link SET {assignments} WHERE id = :id"), {**values, "id": link_id}
        )
    engine.dispose()


def test_an_operator_who_points_a_link_at_another_creator_is_refused(people: People) -> None:
    owner_env = person(people.reader, people.tmp, "owner")
    owner = f"owner-{secrets.token_hex(4)}"
    run_cli(owner_env, "account", "create", "--handle", owner)
    source = write_file(people.tmp / "lease.pdf", "lease")
    run_cli(owner_env, "upload", str(source), "--type", "lease", "--title", "Lease")
    [doc] = json.loads(run_cli(owner_env, "ls", "--json").stdout)
    url = run_cli(owner_env, "share", "create", str(doc["id"])).stdout.splitlines()[0]
    link_id = parse_link(url).link_id
    owner_id = account_id(people, owner)
    victim_id = account_id(people, people.victim)

    for edit in (
        {"owner_id": victim_id, "creator_id": victim_id},  # the victim "made" the link
        {"creator_id": victim_id},  # the victim "made" it as the owner's proxy
        {"creator_id": None},  # nobody the server can name
    ):
        set_link_row(people, link_id, **edit)
        assert_refused(people, url, f"opened-{len(edit)}-{edit['creator_id'] is None}")
        set_link_row(people, link_id, owner_id=owner_id, creator_id=owner_id)
        assert people.uses_left(link_id) == 1

    # Put back as it was, the honest link checks and opens: it was never used up.
    code = run_cli(owner_env, "account", "safety-code").stdout.strip()
    checked = run_cli(people.reader, "share", "check", url).stdout
    assert f"Shared by {owner}: 1 document(s)." in checked
    assert f"Safety code of {owner}: {code}" in checked
    assert "wallet account safety-code" in checked
    opened = run_cli(people.reader, "share", "open", url, "-o", str(people.tmp / "honest"))
    assert f"Shared by {owner}." in opened.stdout
    assert f"Safety code of {owner}: {code}" in opened.stdout
    assert (people.tmp / "honest" / "lease.pdf").read_bytes() == source.read_bytes()
    assert people.uses_left(link_id) == 0


def test_the_honest_link_shows_its_sender_and_their_safety_code(people: People) -> None:
    """The victim's own link: what the reader sees is what the victim's wallet shows."""
    source = write_file(people.tmp / "attestation.pdf", "attestation")
    run_cli(people.victim_env, "upload", str(source), "--type", "other", "--title", "Attestation")
    [doc] = json.loads(run_cli(people.victim_env, "ls", "--json").stdout)
    url = run_cli(people.victim_env, "share", "create", str(doc["id"]), "--purpose", "Rent")
    code = run_cli(people.victim_env, "account", "safety-code").stdout.strip()
    checked = run_cli(people.reader, "share", "check", url.stdout.splitlines()[0]).stdout
    assert f"Shared by {people.victim}: 1 document(s)." in checked
    assert f"Safety code of {people.victim}: {code}" in checked
