"""End-to-end encrypted personal document wallet.

Role: the core of one person's vault (accounts, documents, uploads, profile, journal, sign-in),
the server kit (settings, db, tx, errors, logging), the shared definitions (protocol, crypto),
the composition root (server) and the Python client and CLI. See docs/architecture.md.
"""

__version__ = "0.1.0"
