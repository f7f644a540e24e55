"""Answers that carry a file: a print, an export, an evidence file or a certificate."""

from __future__ import annotations

from flask import Response


def file_response(
    content: bytes | str, mimetype: str, filename: str, *, download: bool = True
) -> Response:
    """A file that no cache keeps (every print and export is its own record): a download, or
    shown inline."""
    response = Response(content, mimetype=mimetype)
    disposition = "attachment" if download else "inline"
    response.headers.set("Content-Disposition", disposition, filename=filename)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
