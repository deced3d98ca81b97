"""document requests and contact notes

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_request",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("requester_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("owner_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("requester_key_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("owner_key_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("sealed_for_owner", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_for_requester", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("due_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("grant_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("answer_for_owner", sa.LargeBinary(), nullable=True),
        sa.Column("answer_for_requester", sa.LargeBinary(), nullable=True),
        sa.Column("answer_signature", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("answered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("closed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["grant.id"],
            name=op.f("fk_document_request_grant_id_grant"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["account.id"],
            name=op.f("fk_document_request_owner_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["account.id"],
            name=op.f("fk_document_request_requester_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_request")),
    )
    with op.batch_alter_table("document_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_request_grant_id"), ["grant_id"])
        batch_op.create_index(batch_op.f("ix_document_request_owner_id"), ["owner_id"])
        batch_op.create_index(batch_op.f("ix_document_request_requester_id"), ["requester_id"])

    op.create_table(
        "contact_note",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("owner_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("author_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("grant_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("owner_key_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("author_key_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("author_handle", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("author_public_encryption_key", sa.LargeBinary(), nullable=False),
        sa.Column("author_public_signing_key", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_for_owner", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_for_author", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["account.id"],
            name=op.f("fk_contact_note_author_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["grant.id"],
            name=op.f("fk_contact_note_grant_id_grant"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["account.id"],
            name=op.f("fk_contact_note_owner_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_note")),
    )
    with op.batch_alter_table("contact_note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_note_author_id"), ["author_id"])
        batch_op.create_index(batch_op.f("ix_contact_note_grant_id"), ["grant_id"])
        batch_op.create_index(batch_op.f("ix_contact_note_owner_id"), ["owner_id"])

    # Which logged-in account redeemed a link, so its inbox can list it for 15 minutes.
    with op.batch_alter_table("link_download_session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("redeemer_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_link_download_session_redeemer_id"), ["redeemer_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_link_download_session_redeemer_id_account"),
            "account",
            ["redeemer_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("link_download_session", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_link_download_session_redeemer_id_account"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_link_download_session_redeemer_id"))
        batch_op.drop_column("redeemer_id")

    with op.batch_alter_table("contact_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_note_owner_id"))
        batch_op.drop_index(batch_op.f("ix_contact_note_grant_id"))
        batch_op.drop_index(batch_op.f("ix_contact_note_author_id"))
    op.drop_table("contact_note")

    with op.batch_alter_table("document_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_request_requester_id"))
        batch_op.drop_index(batch_op.f("ix_document_request_owner_id"))
        batch_op.drop_index(batch_op.f("ix_document_request_grant_id"))
    op.drop_table("document_request")
