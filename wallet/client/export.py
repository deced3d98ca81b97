"""Export everything in formats that open with the stock `age` tool, without this service."""

from __future__ import annotations

import json
from pathlib import Path

from wallet.client.vault import Vault, file_slug
from wallet.crypto import age

README = """\
Your document wallet export
===========================

Everything in this folder is encrypted. You need your wallet passphrase to open it.
You do not need the wallet service: the free program "age" is enough (https://age-encryption.org).

What is here
- documents/        one file per document version. The name shows the title, the type and
                    the version. The content is encrypted.
- identities.age    the keys that open the documents, locked with your passphrase.
- index.json.age    the list of documents (titles, types, dates), locked with your passphrase.
- profile.json.age  your profile record, locked with your passphrase.

How to open a document
1. Unlock the keys. Type your wallet passphrase when age asks for it:
       age -d -o identities.txt identities.age
2. Open a document with the keys:
       age -d -i identities.txt -o payslip.pdf "documents/<file name>.age"
3. To read the list of documents or your profile:
       age -d index.json.age
       age -d profile.json.age
4. When you are done, delete identities.txt. Anyone who has that file can open your documents.
"""


def export_wallet(vault: Vault, target: Path, passphrase: str) -> int:
    """Writes the export into `target`. Returns the number of document versions written."""
    vault.current_auth_key(passphrase)  # refuses a passphrase that is not the account's
    target = Path(target)
    documents_dir = target / "documents"
    documents_dir.mkdir(parents=True, exist_ok=True)
    identities: list[str] = []
    index: list[dict[str, object]] = []
    written = 0
    for document in vault.list_documents():
        for version in vault.versions(document.id):
            meta = version.meta
            name = (
                f"{file_slug(str(meta.get('title') or 'document'))}__{meta.get('type', 'other')}"
                f"__v{version.version}__{document.id[:8]}.age"
            )
            with open(documents_dir / name, "wb") as handle:
                vault.fetch_ciphertext(document.id, version, handle)
            identities.append(f"# {name}\n{version.identity}")
            index.append(
                {
                    "file": f"documents/{name}",
                    "document_id": document.id,
                    "version": version.version,
                    "created_at": version.created_at,
                    **{k: v for k, v in meta.items() if k != "v"},
                }
            )
            written += 1
    identities_text = "# age identities for your wallet export. Keep secret.\n"
    identities_text += "\n".join(identities) + "\n"
    (target / "identities.age").write_bytes(
        age.encrypt_with_passphrase(identities_text.encode(), passphrase)
    )
    (target / "index.json.age").write_bytes(
        age.encrypt_with_passphrase(json.dumps(index, indent=2).encode(), passphrase)
    )
    (target / "profile.json.age").write_bytes(
        age.encrypt_with_passphrase(json.dumps(vault.profile(), indent=2).encode(), passphrase)
    )
    (target / "README.txt").write_text(README)
    return written
