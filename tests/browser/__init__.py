"""Browser tests: Playwright driving Chromium against a live Casework server."""
