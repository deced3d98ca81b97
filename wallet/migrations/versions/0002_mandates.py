"""mandates: digital proxies

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sqlmodel.sql.sqltypes.AutoString
_AT = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "mandate",
        sa.Column("id", _ID(length=32), nullable=False),
        sa.Column("owner_id", _ID(), nullable=False),
        sa.Column("proxy_id", _ID(length=32), nullable=True),
        sa.Column("proxy_key_id", _ID(length=32), nullable=False),
        sa.Column("kind", _ID(length=8), nullable=False),
        sa.Column("actions", _ID(length=40), nullable=False),
        sa.Column("authorisation", sa.LargeBinary(), nullable=False),
        sa.Column("authorisation_signature", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_for_owner", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_for_proxy", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("check_hash", _ID(length=64), nullable=False),
        sa.Column("expires_at", _AT(), nullable=False),
        sa.Column("revoked_at", _AT(), nullable=True),
        sa.Column("renounced_at", _AT(), nullable=True),
        sa.Column("completed_at", _AT(), nullable=True),
        sa.Column("created_at", _AT(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["account.id"],
            name=op.f("fk_mandate_owner_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proxy_id"],
            ["account.id"],
            name=op.f("fk_mandate_proxy_id_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mandate")),
    )
    with op.batch_alter_table("mandate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mandate_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mandate_proxy_id"), ["proxy_id"], unique=False)

    op.create_table(
        "mandate_link",
        sa.Column("link_id", _ID(length=32), nullable=False),
        sa.Column("mandate_id", _ID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["share_link.id"],
            name=op.f("fk_mandate_link_link_id_share_link"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mandate_id"],
            ["mandate.id"],
            name=op.f("fk_mandate_link_mandate_id_mandate"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("link_id", name=op.f("pk_mandate_link")),
    )
    with op.batch_alter_table("mandate_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mandate_link_mandate_id"), ["mandate_id"], unique=False
        )

    op.create_table(
        "mandate_wrap",
        sa.Column("id", _ID(length=32), nullable=False),
        sa.Column("mandate_id", _ID(), nullable=False),
        sa.Column("version_id", _ID(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("statement", sa.LargeBinary(), nullable=True),
        sa.Column("statement_signature", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", _AT(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mandate_id"],
            ["mandate.id"],
            name=op.f("fk_mandate_wrap_mandate_id_mandate"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["document_version.id"],
            name=op.f("fk_mandate_wrap_version_id_document_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mandate_wrap")),
        sa.UniqueConstraint(
            "mandate_id", "version_id", name=op.f("uq_mandate_wrap_mandate_id_version_id")
        ),
    )
    with op.batch_alter_table("mandate_wrap", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mandate_wrap_mandate_id"), ["mandate_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_mandate_wrap_version_id"), ["version_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("mandate_wrap", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mandate_wrap_version_id"))
        batch_op.drop_index(batch_op.f("ix_mandate_wrap_mandate_id"))
    op.drop_table("mandate_wrap")
    with op.batch_alter_table("mandate_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mandate_link_mandate_id"))
    op.drop_table("mandate_link")
    with op.batch_alter_table("mandate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mandate_proxy_id"))
        batch_op.drop_index(batch_op.f("ix_mandate_owner_id"))
    op.drop_table("mandate")
