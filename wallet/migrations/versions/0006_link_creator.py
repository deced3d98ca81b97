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

_ID = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    # Who made a link, from the server's own records: the redeemer's client checks that the
    # signed package names this account, so nobody can make a link "from" someone else.
    # A plain column (no foreign key): on SQLite it is added in place, whereas a batch copy
    # would drop share_link and, with foreign keys on, delete its link items and mandate links.
    op.add_column("share_link", sa.Column("creator_id", _ID(length=32), nullable=True))
    op.create_index("ix_share_link_creator_id", "share_link", ["creator_id"])
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
    op.drop_index("ix_share_link_creator_id", table_name="share_link")
    op.drop_column("share_link", "creator_id")
