"""The client's plain-language failures, shared by the vault and the modules below it."""

from __future__ import annotations


class VaultError(Exception):
    """A plain-language problem the user can act on."""


class IntegrityFailure(VaultError):
    """Something the server sent cannot be trusted."""
