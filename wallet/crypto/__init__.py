"""Role: the crypto envelope, shared by the server and the clients. Standard formats and
well-kept libraries only (see SECURITY.md); imports nothing of the server or the client."""

from wallet.crypto.encoding import b64d, b64e

FORMAT_VERSION = 1

__all__ = ["FORMAT_VERSION", "b64d", "b64e"]
