"""A one-shot (`once`) mandate ends after its first completed action, on the server.

The proxy here is hostile: it talks raw HTTP and never calls `/complete`. Whatever it does,
the first view, upload or link ends the mandate in the same transaction; every later request
answers like an unknown mandate. Only the very download that used it up may resume (a
`Range` request after a dropped connection): it gives nothing new.
"""

from __future__ import annotations

import json
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from sharing.mandates.models import Mandate
from tests.conftest import TEST_PASSPHRASE, LiveServer
from tests.test_grants import database, write_file
from tests.test_mandates import (
    API,
    Setting,
    assert_same_as_unknown,
    headers,
    journal_entries,
    proxy_request,
    send,
    wrap_count,
)
from tests.test_mandates import setting as setting  # noqa: F401 - the fixture
from wallet.client import ApiClient, Vault
from wallet.client import links as linklib
from wallet.client.contacts import PinStore
from wallet.client.mandates import create_mandate, mandates_given, revoke_mandate
from wallet.client.vault import VaultError


def blob_path(mandate_id: str, document_id: str) -> str:
    return f"{API}/mandates/{mandate_id}/documents/{document_id}/versions/1/blob"


def state(s: Setting, mandate_id: str) -> str:
    return str(next(m["state"] for m in mandates_given(s.owner) if m["id"] == mandate_id))


def completions(s: Setting, mandate_id: str) -> list[dict[str, Any]]:
    return [
        json.loads(e["details"])
        for e in journal_entries(s.owner)
        if e["event"] == "mandate_completed" and e["subject_id"] == mandate_id
    ]


def assert_everything_refused(s: Setting, mandate_id: str, skip: str = "") -> None:
    for action in ("view", "download", "upload", "share", "complete", "renounce"):
        document = s.certificate_id
        if action != skip:
            assert_same_as_unknown(s, s.proxy, action, mandate_id, document)
    assert wrap_count(s, mandate_id) == 0


def test_a_raw_view_ends_it_and_only_that_download_may_resume(setting: Setting) -> None:
    s = setting
    mandate = s.give(duration="once")
    # Listing does not use it up, however often.
    for _ in range(2):
        assert send(s, s.proxy, *proxy_request("view", mandate.id, s.lease_id)).status_code == 200
    assert state(s, mandate.id) == "active"

    first = s.app.client.get(blob_path(mandate.id, s.lease_id), headers=headers(s.proxy))
    assert first.status_code == 200
    assert state(s, mandate.id) == "used"
    assert completions(s, mandate.id) == [
        {"mandate": mandate.id, "after": "view", "document": s.lease_id, "version": 1}
    ]
    assert_everything_refused(s, mandate.id)

    # The same download resumes after a drop, and nothing else is served.
    resumed = s.app.client.get(
        blob_path(mandate.id, s.lease_id), headers={**headers(s.proxy), "Range": "bytes=10-"}
    )
    assert resumed.status_code == 206
    assert resumed.content == first.content[10:]
    # ...by its proxy only: anyone else gets the unknown-mandate 404.
    for caller in (s.stranger, s.owner):
        other = s.app.client.get(blob_path(mandate.id, s.lease_id), headers=headers(caller))
        assert other.status_code == 404
    # A revoke ends even that.
    revoke_mandate(s.owner, mandate.id)
    late = s.app.client.get(blob_path(mandate.id, s.lease_id), headers=headers(s.proxy))
    assert late.status_code == 404
    assert len(completions(s, mandate.id)) == 1


def test_an_upload_ends_it_and_the_python_client_says_so(setting: Setting) -> None:
    s = setting
    mandate = s.give(duration="once")
    acting = s.acting()
    added, _ = acting.upload(write_file(s.tmp / "receipt.pdf", "receipt"), "rent_receipt", "R")
    assert state(s, mandate.id) == "used"
    assert completions(s, mandate.id) == [
        {"mandate": mandate.id, "after": "upload", "document": added}
    ]
    acting.complete()  # nothing left to do: no call, no error
    assert_everything_refused(s, mandate.id)
    with pytest.raises(VaultError, match="no active mandate"):
        s.acting()
    # What the proxy added stays the owner's, readable by the owner.
    assert added in {d.id for d in s.owner.list_documents()}


def test_a_link_ends_it_and_the_link_still_opens(setting: Setting) -> None:
    s = setting
    mandate = s.give(duration="once")
    link = linklib.create_link(s.acting(), [s.lease_id], purpose="For the housing office")
    assert state(s, mandate.id) == "used"
    [done] = completions(s, mandate.id)
    assert done == {"mandate": mandate.id, "after": "share", "link": link.id}
    assert_everything_refused(s, mandate.id)
    # The link was what the action was for: ending the mandate does not stop it.
    opened = linklib.open_link(link.url, s.tmp / "opened", api=s.app.api())
    assert opened.files[0].read_bytes() == s.files[s.lease_id]


def test_a_personal_mandate_is_not_used_up(setting: Setting) -> None:
    s = setting
    mandate = s.give(duration="1m")
    for document in (s.lease_id, s.certificate_id):
        got = s.app.client.get(blob_path(mandate.id, document), headers=headers(s.proxy))
        assert got.status_code == 200
    assert state(s, mandate.id) == "active"
    assert completions(s, mandate.id) == []


# --- over real HTTP, two first actions at once ----------------------------------------------


def live_vault(server: LiveServer, handle: str) -> Vault:
    vault, _recovery = Vault.create_account(ApiClient(server.url), handle, TEST_PASSPHRASE)
    return vault


def test_two_first_actions_at_once_only_one_is_served(
    live_server: LiveServer, tmp_path: Path
) -> None:
    owner = live_vault(live_server, f"owner-{secrets.token_hex(4)}")
    proxy = live_vault(live_server, f"proxy-{secrets.token_hex(4)}")
    ids = [
        owner.upload(write_file(tmp_path / f"{n}.pdf", n), "lease", n)[0]
        for n in ("one", "two", "three", "four")
    ]
    mandate = create_mandate(
        owner,
        proxy.account["handle"],
        categories=["housing"],
        actions=["view"],
        duration="once",
        purpose="One visit",
        pins=PinStore(None),
    )
    auth = {"Authorization": f"Bearer {proxy.api.token}"}

    def fetch(document_id: str) -> int:
        with httpx.Client(base_url=live_server.url, timeout=60) as client:
            return client.get(blob_path(mandate.id, document_id), headers=auth).status_code

    with ThreadPoolExecutor(max_workers=len(ids)) as pool:
        codes = list(pool.map(fetch, ids))
    assert sorted(codes) == [200, 404, 404, 404], codes
    with database(live_server.database.url) as db:
        row = db.get(Mandate, mandate.id)
        assert row is not None and row.completed_at is not None
    entries = owner.api.api("GET", "/journal").json()["entries"]
    downloads = [e for e in entries if e["event"] == "mandate_download"]
    assert len(downloads) == 1  # the refused ones left nothing behind
    assert [e["event"] for e in entries if e["event"] == "mandate_completed"] == [
        "mandate_completed"
    ]
