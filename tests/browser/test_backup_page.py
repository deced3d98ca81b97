"""The owner's full backup from the browser, in Chromium at 360x740: the same export as
`wallet export`, as one zip of age files made in the page. The zip Chromium downloads opens
with the stock `age` tool (the passphrase typed at its prompt) and with the Python client, and
matches the Python client's own export byte for byte where it can (the stored ciphertexts)."""

from __future__ import annotations

import json
import secrets
import subprocess
import zipfile
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_violations, login, screenshot
from tests.browser.test_org_pages import new_account, no_sideways_scroll
from tests.browser.test_sharing_flows import go
from tests.conftest import TEST_PASSPHRASE, LiveServer
from tests.test_export import AGE, age_with_passphrase
from wallet.client.export import README, export_wallet
from wallet.crypto import age


def test_the_owner_downloads_a_full_backup_that_age_opens(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    tag = secrets.token_hex(3)
    owner = new_account(web_server, "o")
    contents = {
        "v1": f"payslip v1 {tag} ".encode() + secrets.token_bytes(3000),
        "v2": f"payslip v2 {tag} ".encode() + secrets.token_bytes(4000),
        "lease": f"lease {tag} ".encode() + secrets.token_bytes(2000),
    }
    for name, data in contents.items():
        (tmp_path / f"{name}.pdf").write_bytes(data)
    payslip_id, _ = owner.upload(tmp_path / "v1.pdf", "payslip", f"Payslip März {tag}")
    owner.upload(tmp_path / "v2.pdf", "payslip", f"Payslip März {tag}", replace=payslip_id)
    lease_id, _ = owner.upload(tmp_path / "lease.pdf", "lease", f"Lease/Rue Haute {tag}")
    owner.set_profile_field("address", f"12 Rue Haute {tag}")

    login(page, owner.account["handle"])
    go(page, "/account")
    page.get_by_role("link", name="Download a full backup").click()
    page.wait_for_url("**/backup")
    page.locator("main[data-page=backup][data-ready]").wait_for(state="attached")
    page.locator("#backup-passphrase").fill("not my passphrase at all")
    page.get_by_role("button", name="Make the backup").click()
    expect(page.locator("[data-error]")).to_be_visible()
    page.locator("#backup-passphrase").fill(TEST_PASSPHRASE)
    with page.expect_download() as waiting:
        page.get_by_role("button", name="Make the backup").click()
    download = waiting.value
    assert download.suggested_filename.startswith(f"wallet-export-{owner.account['handle']}-")
    zipped = tmp_path / "backup.zip"
    download.save_as(zipped)
    expect(page.locator("[data-result-summary]")).to_contain_text("3 document versions,")
    screenshot(page, "backup-done")
    no_sideways_scroll(page)
    assert axe_violations(page) == []

    browser_dir = tmp_path / "from-browser"
    with zipfile.ZipFile(zipped) as archive:
        assert archive.testzip() is None
        archive.extractall(browser_dir)
    python_dir = tmp_path / "from-python"
    assert export_wallet(owner, python_dir, TEST_PASSPHRASE) == 3

    def files(root: Path) -> set[str]:
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}

    assert files(browser_dir) == files(python_dir)
    for name in files(python_dir):
        if name.startswith("documents/"):  # the stored ciphertext, exactly
            assert (browser_dir / name).read_bytes() == (python_dir / name).read_bytes(), name
    assert (browser_dir / "README.txt").read_text() == README
    for name in ("index.json.age", "profile.json.age"):
        mine = json.loads(
            age.decrypt_with_passphrase((browser_dir / name).read_bytes(), TEST_PASSPHRASE)
        )
        theirs = json.loads(
            age.decrypt_with_passphrase((python_dir / name).read_bytes(), TEST_PASSPHRASE)
        )
        assert mine == theirs, name
    index = json.loads(
        age.decrypt_with_passphrase((browser_dir / "index.json.age").read_bytes(), TEST_PASSPHRASE)
    )
    assert {(i["document_id"], i["version"]) for i in index} == {
        (payslip_id, 1),
        (payslip_id, 2),
        (lease_id, 1),
    }

    # The stock age tool: the passphrase at its prompt unlocks the keys, the keys the files.
    code, output = age_with_passphrase(
        ["-d", "-o", "identities.txt", "identities.age"], TEST_PASSPHRASE, browser_dir
    )
    assert code == 0, output
    by_version = {(i["document_id"], i["version"]): i["file"] for i in index}
    wanted = {
        by_version[(payslip_id, 1)]: contents["v1"],
        by_version[(payslip_id, 2)]: contents["v2"],
        by_version[(lease_id, 1)]: contents["lease"],
    }
    for file, plaintext in wanted.items():
        opened = subprocess.run(
            [AGE, "-d", "-i", "identities.txt", file],
            cwd=browser_dir,
            capture_output=True,
            check=True,
            timeout=60,
        )
        assert opened.stdout == plaintext, file
