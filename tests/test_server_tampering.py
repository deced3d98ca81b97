"""A malicious server, using only what it stores and public keys, tries to pass off data as the
owner's. Each attempt must be caught by the client (these were real holes, found in review)."""

import json
import secrets

import pytest
from sqlmodel import select

from sharing.grants.models import GrantFieldWrap
from tests.test_grants import database, make_granted
from wallet.client.grants import received_profile
from wallet.client.vault import IntegrityFailure
from wallet.crypto import age
from wallet.crypto.encoding import b64e
from wallet.crypto.wrap import document_key_info, profile_field_info, seal
from wallet.documents.models import Document
from wallet.profile.models import ProfileField


def _forged_field(name: str, value: str) -> tuple[bytes, object]:
    identity = age.new_identity()
    record = json.dumps({"v": 1, "name": name, "value": value}).encode()
    return age.encrypt_bytes(record, age.recipient_of(identity)), identity


def test_a_forged_profile_field_is_refused_by_the_grantee(wallet_app, tmp_path) -> None:
    granted = make_granted(wallet_app, tmp_path)
    assert received_profile(granted.worker, granted.grant.id)["address"].startswith("Rue Haute")
    worker = granted.worker
    with database(wallet_app.settings.resolved_database_url) as db:
        wrap = db.exec(
            select(GrantFieldWrap).where(GrantFieldWrap.grant_id == granted.grant.id)
        ).first()
        field = db.exec(select(ProfileField).where(ProfileField.slot == wrap.slot)).one()
        field.ciphertext, identity = _forged_field("address", "FORGED: Rue du Mensonge 666")
        wrap.wrapped_key = seal(
            worker.keys.public_encryption_key,
            str(identity).encode(),
            profile_field_info(wrap.slot, worker.keys.key_id),
        )
        db.add(field)
        db.add(wrap)
        db.commit()
    with pytest.raises(IntegrityFailure):
        received_profile(worker, granted.grant.id)


def test_a_forged_profile_field_is_refused_by_the_owner(wallet_app) -> None:
    owner = wallet_app.new_vault()
    owner.set_profile_field("first_name", "Marie")
    with database(wallet_app.settings.resolved_database_url) as db:
        field = db.exec(
            select(ProfileField).where(ProfileField.account_id == owner.account["id"])
        ).one()
        field.ciphertext, identity = _forged_field("first_name", "Someone else")
        field.wrapped_key = seal(
            owner.keys.public_encryption_key,
            str(identity).encode(),
            profile_field_info(field.slot, owner.keys.key_id),
        )
        db.add(field)
        db.commit()
    with pytest.raises(IntegrityFailure):
        owner.profile()


def test_a_document_invented_by_the_server_is_refused_in_the_listing(wallet_app) -> None:
    owner = wallet_app.new_vault()
    fake_id = secrets.token_hex(16)
    identity = age.new_identity()
    meta = {"v": 1, "type": "other", "title": "URGENT: call +32 000", "file_name": "x.pdf"}
    with database(wallet_app.settings.resolved_database_url) as db:
        db.add(
            Document(
                id=fake_id,
                owner_id=owner.account["id"],
                current_version=1,
                current_size=10,
                current_meta_b64=b64e(
                    age.encrypt_bytes(json.dumps(meta).encode(), age.recipient_of(identity))
                ),
                current_wrap_b64=b64e(
                    seal(
                        owner.keys.public_encryption_key,
                        str(identity).encode(),
                        document_key_info(fake_id, 1, owner.keys.key_id),
                    )
                ),
            )
        )
        db.commit()
    with pytest.raises(IntegrityFailure):
        owner.list_documents()
