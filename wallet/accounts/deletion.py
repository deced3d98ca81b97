"""Checks that run before an account is deleted, in the deletion's transaction.

Domains above accounts (an organisation's last-admin rule, in sharing/) register theirs at
app composition (wallet/server/hooks.py), so accounts never imports them: the arrows keep
pointing down. A check refuses by raising a WalletError; nothing is deleted then.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from wallet.accounts.models import Account

PreDeletionCheck = Callable[[Session, Account], None]

_CHECKS: dict[str, PreDeletionCheck] = {}


def register(name: str, check: PreDeletionCheck) -> None:
    """Adds a check, or replaces the one of the same name (apps made twice register twice)."""
    _CHECKS[name] = check


def registered() -> list[str]:
    return sorted(_CHECKS)


def run_checks(db: Session, account: Account) -> None:
    for name in sorted(_CHECKS):
        _CHECKS[name](db, account)
