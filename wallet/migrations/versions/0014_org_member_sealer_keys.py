"""each member's sealed team key keeps the sealing admin's public keys, so a member can still
check it (and open the team key) after that admin deleted their account

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("org_member") as batch:
        batch.add_column(sa.Column("sealer_handle", _STR(length=40), nullable=True))
        batch.add_column(sa.Column("sealer_key_id", _STR(length=32), nullable=True))
        batch.add_column(sa.Column("sealer_public_encryption_key", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("sealer_public_signing_key", sa.LargeBinary(), nullable=True))
    # Copies sealed by an admin who still has an account: their keys as they are now, which
    # are the keys that signed (a key change reseals nothing, so it would not check anyway).
    for name, source in (
        ("sealer_handle", "handle"),
        ("sealer_key_id", "key_id"),
        ("sealer_public_encryption_key", "public_encryption_key"),
        ("sealer_public_signing_key", "public_signing_key"),
    ):
        op.execute(
            f"UPDATE org_member SET {name} = "  # noqa: S608 - fixed column names
            f"(SELECT account.{source} FROM account WHERE account.id = org_member.sealed_by)"
        )


def downgrade() -> None:
    with op.batch_alter_table("org_member") as batch:
        batch.drop_column("sealer_public_signing_key")
        batch.drop_column("sealer_public_encryption_key")
        batch.drop_column("sealer_key_id")
        batch.drop_column("sealer_handle")
