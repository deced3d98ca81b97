"""The wallet's shared definitions, used by the server and the clients alike: the document
catalogue and the journal's hash chain. Pure: no I/O, no HTTP, no database; imports nothing
from the server or the client (checked by import-linter)."""
