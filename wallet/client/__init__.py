"""Role: the Python client. All encryption and decryption happen here, never on the server.
Imports only wallet.protocol, wallet.crypto and itself (checked by import-linter)."""

from wallet.client import grants, mandates
from wallet.client.api import ApiClient, ApiError
from wallet.client.vault import HOOKS, DocumentInfo, Vault

# The vault cannot import the modules built on it, so they are wired here, for every vault:
# grants, then mandates, give each new version's key to whoever they cover; grants give each
# new profile field's key; mandates name the keys proxies sign the documents they add with.
HOOKS.after_upload.extend([grants.wrap_new_version, mandates.wrap_new_version])
HOOKS.after_profile_field.append(grants.rewrap_profile_field)
HOOKS.proxy_signers = mandates.proxy_signers

__all__ = ["ApiClient", "ApiError", "DocumentInfo", "Vault"]
