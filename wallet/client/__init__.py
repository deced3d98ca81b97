"""The Python client: all encryption and decryption happen here, never on the server."""

from wallet.client.api import ApiClient, ApiError
from wallet.client.vault import DocumentInfo, Vault

__all__ = ["ApiClient", "ApiError", "DocumentInfo", "Vault"]
