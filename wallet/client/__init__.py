"""Role: the Python client. All encryption and decryption happen here, never on the server.
Imports only wallet.protocol, wallet.crypto and itself (checked by import-linter)."""

from wallet.client.api import ApiClient, ApiError
from wallet.client.vault import DocumentInfo, Vault

__all__ = ["ApiClient", "ApiError", "DocumentInfo", "Vault"]
