"""OpenID Connect logins for workers

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oidc_identity",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("account_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("issuer", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_login_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_oidc_identity_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_identity")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_oidc_identity_issuer_subject")),
    )
    with op.batch_alter_table("oidc_identity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oidc_identity_account_id"), ["account_id"], unique=True
        )

    op.create_table(
        "oidc_login",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("state_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("account_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("browser_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("nonce", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("code_verifier", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_oidc_login_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_login")),
    )
    with op.batch_alter_table("oidc_login", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_login_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_oidc_login_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_oidc_login_state_hash"), ["state_hash"], unique=True)

    op.create_table(
        "oidc_exchange",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("account_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_oidc_exchange_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_exchange")),
    )
    with op.batch_alter_table("oidc_exchange", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oidc_exchange_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_oidc_exchange_code_hash"), ["code_hash"], unique=True)
        batch_op.create_index(
            batch_op.f("ix_oidc_exchange_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    for table in ("oidc_exchange", "oidc_login", "oidc_identity"):
        op.drop_table(table)
