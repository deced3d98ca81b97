"""The encrypted profile record: one row per field, each sealed on its own."""

from sqlmodel import Session, col, select

from wallet.accounts.models import Account
from wallet.db import utcnow
from wallet.errors import NotFound
from wallet.journal import service as journal
from wallet.profile.models import ProfileField


def list_fields(db: Session, account: Account) -> list[ProfileField]:
    query = select(ProfileField).where(ProfileField.account_id == account.id)
    return list(db.exec(query.order_by(col(ProfileField.slot))))


def put_field(
    db: Session,
    account: Account,
    slot: str,
    ciphertext: bytes,
    wrapped_key: bytes,
    signature: bytes,
) -> ProfileField:
    row = db.exec(
        select(ProfileField)
        .where(ProfileField.account_id == account.id)
        .where(ProfileField.slot == slot)
    ).first() or ProfileField(
        account_id=account.id, slot=slot, ciphertext=b"", wrapped_key=b"", signature=b""
    )
    row.ciphertext = ciphertext
    row.wrapped_key = wrapped_key
    row.signature = signature
    row.updated_at = utcnow()
    db.add(row)
    journal.append(db, account.id, "profile_changed", subject_kind="profile", subject_id=slot)
    return row


def delete_field(db: Session, account: Account, slot: str) -> None:
    row = db.exec(
        select(ProfileField)
        .where(ProfileField.account_id == account.id)
        .where(ProfileField.slot == slot)
    ).first()
    if row is None:
        raise NotFound()
    db.delete(row)
    journal.append(db, account.id, "profile_removed", subject_kind="profile", subject_id=slot)
