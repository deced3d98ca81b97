"""emergency access: a trusted person may ask for the owner's papers or a new passphrase,
released after a waiting period the owner can refuse during

Revision ID: 0013
Revises: 0011 (the merger re-chains)
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sqlmodel.sql.sqltypes.AutoString
_AT = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "emergency_access",
        sa.Column("id", _ID(length=32), nullable=False),
        sa.Column("owner_id", _ID(), nullable=False),
        sa.Column("trusted_id", _ID(), nullable=False),
        sa.Column("trusted_key_id", _ID(length=32), nullable=False),
        sa.Column("access", _ID(length=8), nullable=False),
        sa.Column("wait_days", sa.Integer(), nullable=False),
        sa.Column("statement", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _AT(), nullable=False),
        sa.Column("requested_at", _AT(), nullable=True),
        sa.Column("refused_at", _AT(), nullable=True),
        sa.Column("released_at", _AT(), nullable=True),
        sa.Column("taken_over_at", _AT(), nullable=True),
        sa.Column("revoked_at", _AT(), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["account.id"],
            name=op.f("fk_emergency_access_owner_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trusted_id"],
            ["account.id"],
            name=op.f("fk_emergency_access_trusted_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_access")),
    )
    with op.batch_alter_table("emergency_access", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_emergency_access_owner_id"), ["owner_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emergency_access_trusted_id"), ["trusted_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("emergency_access", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_access_trusted_id"))
        batch_op.drop_index(batch_op.f("ix_emergency_access_owner_id"))
    op.drop_table("emergency_access")
