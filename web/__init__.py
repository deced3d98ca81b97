"""Role: the web app: server-rendered pages, static assets and the browser crypto (see
web/README.md). Every HTML page lives here. See docs/architecture.md."""
