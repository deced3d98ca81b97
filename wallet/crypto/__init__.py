"""The crypto envelope. Standard formats and well-kept libraries only (see SECURITY.md)."""

from wallet.crypto.encoding import b64d, b64e

FORMAT_VERSION = 1

__all__ = ["FORMAT_VERSION", "b64d", "b64e"]
