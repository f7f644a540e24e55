"""The only way a render may reach outside itself: the bundled print files and `data:` URLs."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import DataHandler, Request

from casework.paths import resource_dir


def print_folder() -> Path:
    """The bundled stylesheet, fonts and images a printed document may use."""
    return (resource_dir("static") / "print").resolve()


class RefusedURL(ValueError):
    """A document named a URL it may not fetch (WeasyPrint skips the resource)."""


def bundled_file(url: str, root: Path) -> Path:
    """The file a `file:` URL names, if it resolves to a file inside `root`; else `RefusedURL`.

    The check is on the resolved path, so `..`, percent-encoding and symbolic links cannot
    lead out of the folder.
    """
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost") or parts.query:
        raise RefusedURL(f"not a bundled file: {url[:200]}")
    try:
        path = Path(unquote(parts.path)).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        raise RefusedURL(f"no such bundled file: {url[:200]}") from None
    if not path.is_relative_to(root) or not path.is_file():
        raise RefusedURL(f"outside the bundled print files: {url[:200]}")
    return path


def data_url(url: str) -> tuple[bytes, str]:
    """The content and media type of a `data:` URL."""
    try:
        response = DataHandler().data_open(Request(url))
    except (ValueError, OSError) as exc:
        raise RefusedURL(f"malformed data URL: {exc}") from None
    return response.read(), response.headers.get_content_type()


def make_fetcher(root: Path | None = None) -> Any:
    """A WeasyPrint URL fetcher that refuses everything but `root`'s files and `data:` URLs.

    Built on first use so that WeasyPrint is imported only when a PDF is made.
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    allowed = root or print_folder()

    class BundledOnlyFetcher(URLFetcher):
        """Serves the bundled print files and `data:` URLs; raises for anything else."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = url.split(":", 1)[0].lower() if ":" in url else ""
            if scheme == "data":
                content, media_type = data_url(url)
                return URLFetcherResponse(url, content, {"Content-Type": media_type})
            if scheme == "file":
                path = bundled_file(url, allowed)
                return URLFetcherResponse(path.as_uri(), path.read_bytes())
            raise RefusedURL(f"printed documents fetch nothing from {scheme or 'relative'} URLs")

    return BundledOnlyFetcher(timeout=1, allowed_protocols=("file", "data"))
