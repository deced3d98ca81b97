"""the owner's signed vault head, and the version each document's head covers

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "vault_head",
        sa.Column("owner_id", _ID(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("statement", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("covered", sa.Text(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("owner_id"),
    )
    # In place (no batch copy): existing documents have no head yet; the owner's client signs
    # the first one at its next login.
    op.add_column("document", sa.Column("head_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    # In place too: a batch copy would drop the document table and, with foreign keys on,
    # delete its versions.
    op.drop_column("document", "head_version")
    op.drop_table("vault_head")
