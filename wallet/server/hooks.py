"""What lower domains ask of higher ones, wired once at app composition (create_app)."""

from __future__ import annotations

from sharing.organisations import service as organisations
from wallet.accounts import deletion


def install() -> None:
    # The last admin of an organisation with other members cannot delete their account.
    deletion.register("organisations.last_admin", organisations.check_account_deletion)
