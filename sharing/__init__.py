"""Role: everything that gives another party access to a person's papers: links, grants,
mandates (proxies), organisations, document requests, contact notes and the worker's inbox.
May import the wallet core and storage, never the pages (web) or the client.
See docs/architecture.md."""
