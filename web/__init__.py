"""The web app: server-rendered pages, static assets and the browser crypto (see web/README.md)."""
