"""the account that made each share link

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Who made a link, from the server's own records: the redeemer's client checks that the
    # signed package names this account, so nobody can make a link "from" someone else.
    with op.batch_alter_table("share_link", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("creator_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_share_link_creator_id"), ["creator_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_share_link_creator_id_account"),
            "account",
            ["creator_id"],
            ["id"],
            ondelete="SET NULL",
        )
    # Existing links: the owner made them, unless a proxy made them under a mandate.
    op.execute("UPDATE share_link SET creator_id = owner_id")
    op.execute(
        "UPDATE share_link SET creator_id = ("
        " SELECT mandate.proxy_id FROM mandate_link"
        " JOIN mandate ON mandate.id = mandate_link.mandate_id"
        " WHERE mandate_link.link_id = share_link.id)"
        " WHERE id IN (SELECT link_id FROM mandate_link)"
    )


def downgrade() -> None:
    with op.batch_alter_table("share_link", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_share_link_creator_id_account"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_share_link_creator_id"))
        batch_op.drop_column("creator_id")
