"""organisations, teams and grants to an organisation

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sqlmodel.sql.sqltypes.AutoString
WHEN = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "organisation",
        sa.Column("id", ID(length=32), nullable=False),
        sa.Column("handle", ID(length=40), nullable=False),
        sa.Column("display_name", ID(length=120), nullable=False),
        sa.Column("team_key_id", ID(length=32), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
    )
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organisation_handle"), ["handle"], unique=True)

    op.create_table(
        "org_team_key",
        sa.Column("id", ID(length=32), nullable=False),
        sa.Column("org_id", ID(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("key_id", ID(length=32), nullable=False),
        sa.Column("public_encryption_key", sa.LargeBinary(), nullable=False),
        sa.Column("public_signing_key", sa.LargeBinary(), nullable=False),
        sa.Column("statement", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", WHEN(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisation.id"],
            name=op.f("fk_org_team_key_org_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_team_key")),
        sa.UniqueConstraint("org_id", "epoch", name=op.f("uq_org_team_key_org_id_epoch")),
    )
    with op.batch_alter_table("org_team_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_org_team_key_org_id"), ["org_id"], unique=False)

    op.create_table(
        "org_member",
        sa.Column("id", ID(length=32), nullable=False),
        sa.Column("org_id", ID(), nullable=False),
        sa.Column("account_id", ID(), nullable=False),
        sa.Column("role", ID(length=16), nullable=False),
        sa.Column("member_key_id", ID(length=32), nullable=False),
        sa.Column("team_key_id", ID(length=32), nullable=False),
        sa.Column("sealed_team_key", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_by", ID(length=32), nullable=False),
        sa.Column("seal_statement", sa.LargeBinary(), nullable=False),
        sa.Column("seal_signature", sa.LargeBinary(), nullable=False),
        sa.Column("added_at", WHEN(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_org_member_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisation.id"],
            name=op.f("fk_org_member_org_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_member")),
        sa.UniqueConstraint("org_id", "account_id", name=op.f("uq_org_member_org_id_account_id")),
    )
    with op.batch_alter_table("org_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_org_member_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_org_member_org_id"), ["org_id"], unique=False)

    op.create_table(
        "org_event",
        sa.Column("id", ID(length=32), nullable=False),
        sa.Column("org_id", ID(), nullable=False),
        sa.Column("at", WHEN(), nullable=False),
        sa.Column("event", ID(length=40), nullable=False),
        sa.Column("actor_id", ID(length=32), nullable=True),
        sa.Column("subject_id", ID(length=32), nullable=True),
        sa.Column("details", ID(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisation.id"],
            name=op.f("fk_org_event_org_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_event")),
    )
    with op.batch_alter_table("org_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_org_event_org_id"), ["org_id"], unique=False)

    # A grant goes to exactly one account or one organisation.
    with op.batch_alter_table("grant", schema=None) as batch_op:
        batch_op.alter_column("grantee_id", existing_type=ID(), nullable=True)
        batch_op.add_column(sa.Column("grantee_org_id", ID(length=32), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_grant_grantee_org_id_organisation"),
            "organisation",
            ["grantee_org_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(batch_op.f("ix_grant_grantee_org_id"), ["grantee_org_id"])
        batch_op.create_check_constraint(
            "one_grantee", "(grantee_id IS NULL) <> (grantee_org_id IS NULL)"
        )


def downgrade() -> None:
    with op.batch_alter_table("grant", schema=None) as batch_op:
        batch_op.drop_constraint("ck_grant_one_grantee", type_="check")
        batch_op.drop_index(batch_op.f("ix_grant_grantee_org_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_grant_grantee_org_id_organisation"), type_="foreignkey"
        )
        batch_op.drop_column("grantee_org_id")
        batch_op.alter_column("grantee_id", existing_type=ID(), nullable=False)
    for table in ("org_event", "org_member", "org_team_key", "organisation"):
        op.drop_table(table)
