"""ids scoped per owner, so creating something never tells whether another owner has one with
the same id: a document's key is (id, owner_id); a link keeps a row key and gets the id its
owner chose (public_id, unique per owner). The login throttle's in-flight reservations.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sqlite_foreign_keys_off() -> None:
    """SQLite rebuilds a table to change its key, and dropping the old copy with foreign keys
    on would cascade into every version and wrap. The pragma works only outside a transaction:
    what earlier migrations of this run wrote is committed first."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    dbapi = bind.connection.dbapi_connection
    if dbapi is not None and dbapi.in_transaction:
        dbapi.commit()
    op.execute("PRAGMA foreign_keys=OFF")
    if bind.exec_driver_sql("PRAGMA foreign_keys").scalar() != 0:
        raise RuntimeError("cannot turn SQLite's foreign keys off for migration 0012")


def upgrade() -> None:
    _sqlite_foreign_keys_off()
    with op.batch_alter_table("document_version") as batch:
        batch.add_column(sa.Column("owner_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.execute(
        "UPDATE document_version SET owner_id = "
        "(SELECT document.owner_id FROM document WHERE document.id = document_version.document_id)"
    )
    with op.batch_alter_table("document_version") as batch:
        batch.drop_constraint("fk_document_version_document_id_document", type_="foreignkey")
        batch.drop_constraint("uq_document_version_document_id_version", type_="unique")
        batch.alter_column(
            "owner_id", existing_type=sqlmodel.sql.sqltypes.AutoString(), nullable=False
        )
    with op.batch_alter_table("document") as batch:
        batch.drop_constraint("pk_document", type_="primary")
        batch.create_primary_key("pk_document", ["id", "owner_id"])
    with op.batch_alter_table("document_version") as batch:
        batch.create_unique_constraint(
            "uq_document_version_owner_id_document_id_version",
            ["owner_id", "document_id", "version"],
        )
        batch.create_foreign_key(
            "fk_document_version_document_id_document",
            "document",
            ["document_id", "owner_id"],
            ["id", "owner_id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("share_link") as batch:
        batch.add_column(
            sa.Column("public_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
    op.execute("UPDATE share_link SET public_id = id")
    with op.batch_alter_table("share_link") as batch:
        batch.alter_column(
            "public_id", existing_type=sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False
        )
        batch.create_unique_constraint(
            "uq_share_link_owner_id_public_id", ["owner_id", "public_id"]
        )
        batch.create_index("ix_share_link_public_id", ["public_id"], unique=False)
    with op.batch_alter_table("login_throttle") as batch:
        batch.add_column(sa.Column("in_flight", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("reserved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    if op.get_bind().dialect.name == "sqlite":
        problems = op.get_bind().exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise RuntimeError(f"migration 0012 left broken references: {problems[:5]}")


def downgrade() -> None:
    _sqlite_foreign_keys_off()
    with op.batch_alter_table("login_throttle") as batch:
        batch.drop_column("reserved_at")
        batch.drop_column("in_flight")
    with op.batch_alter_table("share_link") as batch:
        batch.drop_index("ix_share_link_public_id")
        batch.drop_constraint("uq_share_link_owner_id_public_id", type_="unique")
        batch.drop_column("public_id")
    with op.batch_alter_table("document_version") as batch:
        batch.drop_constraint("fk_document_version_document_id_document", type_="foreignkey")
        batch.drop_constraint("uq_document_version_owner_id_document_id_version", type_="unique")
    with op.batch_alter_table("document") as batch:
        batch.drop_constraint("pk_document", type_="primary")
        batch.create_primary_key("pk_document", ["id"])
    with op.batch_alter_table("document_version") as batch:
        batch.create_unique_constraint(
            "uq_document_version_document_id_version", ["document_id", "version"]
        )
        batch.create_foreign_key(
            "fk_document_version_document_id_document",
            "document",
            ["document_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.drop_column("owner_id")
