"""HTML from the pdf templates, and PDF from HTML with WeasyPrint, under a time limit.

Safety: templates autoescape everything; the stylesheet is passed as a string; every URL a render
names goes through `fetcher.make_fetcher` (bundled print files and `data:` URLs only); and the
render runs in a forked child process that is killed when it overruns its time limit.

Why a child process and not a thread: a Python thread cannot be stopped, so a pathological
document would go on burning the worker's CPU and memory after the request had given up on it.
A child forked from a process that has already imported WeasyPrint starts in milliseconds,
can be killed outright, and takes its memory with it.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import os
import select
import signal
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import jinja2

from casework.errors import Unavailable
from casework.paths import resource_dir
from casework.printing.fetcher import make_fetcher, print_folder
from casework.printing.stamp import reserve
from casework.printing.structure import complete

#: Bump when the documents change in a way the template and stylesheet digests do not show.
LAYOUT = "2"

#: What WeasyPrint is asked for: tagged PDF/UA-1 (structure, language, title shown). The bundled
#: fonts are already cut down to Latin-script text, so subsetting them per render is cheap
#: (cheaper, measured, than embedding them whole).
PDF_OPTIONS: dict[str, Any] = {"pdf_variant": "pdf/ua-1"}


def templates_folder() -> Path:
    return resource_dir("templates") / "pdf"


@functools.cache
def environment(folder: str) -> jinja2.Environment:
    """The pdf templates' own environment: autoescaping always on, undefined names are errors."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def html_of(template: str, **context: Any) -> str:
    """The HTML of a document, from `templates/pdf/<template>`."""
    return environment(str(templates_folder())).get_template(template).render(**context)


def stylesheet() -> str:
    return (print_folder() / "print.css").read_text(encoding="utf-8")


@functools.cache
def _layout_digest(templates: str, static: str) -> str:
    digest = hashlib.sha256(f"layout {LAYOUT}\nweasyprint {version('weasyprint')}\n".encode())
    for folder in (Path(templates), Path(static)):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(f"{path.relative_to(folder)}\n".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def layout_version() -> str:
    """A digest of everything that shapes a document besides its data: templates, stylesheet,
    fonts, this module's layout number and the WeasyPrint version. Part of every cache key, so
    editing a template never serves a document laid out the old way."""
    return _layout_digest(str(templates_folder()), str(print_folder()))


# --- WeasyPrint -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Renderer:
    """WeasyPrint with the print stylesheet parsed and its fonts loaded, ready to render."""

    weasyprint: Any
    stylesheet: Any
    fonts: Any
    fetcher: Any
    base_url: str

    def write_pdf(self, html: str, identifier: bytes) -> bytes:
        document = self.weasyprint.HTML(
            string=html, base_url=self.base_url, url_fetcher=self.fetcher
        )
        pdf: bytes = document.write_pdf(
            stylesheets=[self.stylesheet],
            font_config=self.fonts,
            pdf_identifier=identifier,
            finisher=finish,
            **PDF_OPTIONS,
        )
        return pdf


def finish(document: Any, pdf: Any) -> None:
    """WeasyPrint finisher: complete the structure tree, then reserve the stamp's slots."""
    complete(pdf)
    reserve(document, pdf)


@functools.cache
def renderer(css_text: str, folder: str) -> Renderer:
    """Import WeasyPrint (about a second) the first time a PDF is made in this process, parse the
    stylesheet and load its fonts once, and warm the text machinery with a tiny document.

    Renders are forked from this process, so each starts with all of that done; no document's
    content ever runs here.
    """
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    fetcher = make_fetcher(Path(folder))
    fonts = FontConfiguration()
    base = Path(folder).as_uri() + "/"
    css = weasyprint.CSS(string=css_text, base_url=base, url_fetcher=fetcher, font_config=fonts)
    ready = Renderer(weasyprint, css, fonts, fetcher, base)
    ready.write_pdf("<html lang='en'><title>Casework</title><p>Casework <b>print</b></p>", b"0")
    return ready


def pdf_of(html: str, *, identifier: bytes, time_limit: float) -> bytes:
    """Render HTML to PDF in a child process; `Unavailable` when it takes over `time_limit` s."""
    ready = renderer(stylesheet(), str(print_folder()))
    if not hasattr(os, "fork"):  # pragma: no cover - Casework is served from POSIX hosts
        return ready.write_pdf(html, identifier)
    return in_child(lambda: ready.write_pdf(html, identifier), time_limit)


_OK, _FAILED = b"K", b"F"


def in_child(work: Callable[[], bytes], time_limit: float) -> bytes:
    """Run `work` in a forked child and return its bytes; kill it at the time limit.

    Raises `Unavailable` when the child overruns or fails; the worker itself is never at risk.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: render, send, and leave without running any of the parent's exits
        status = 1
        try:
            os.close(read_end)
            _limit_cpu(time_limit)
            # A layout makes millions of objects and hardly any cycles; the collector's passes
            # over them cost a third of a long render (measured: a 100-case history, 11.7 s →
            # 7.7 s, 8 MB more memory), and this process ends when its one document is done.
            gc.disable()
            try:
                payload = _OK + work()
            except BaseException as exc:  # noqa: BLE001 - reported to the parent, not raised
                payload = _FAILED + f"{type(exc).__name__}: {exc}".encode()[:2000]
            with os.fdopen(write_end, "wb") as out:
                out.write(struct.pack(">Q", len(payload)) + payload)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    try:
        data = _read_until(read_end, time.monotonic() + time_limit)
    except TimeoutError:
        os.kill(pid, signal.SIGKILL)
        raise Unavailable(
            f"The document took longer than {time_limit:g} seconds to produce and was stopped."
        ) from None
    finally:
        os.close(read_end)
        _reap(pid)
    if len(data) < 9 or struct.unpack(">Q", data[:8])[0] != len(data) - 8:
        raise Unavailable("The document could not be produced (the renderer stopped).")
    if data[8:9] != _OK:
        raise Unavailable(
            "The document could not be produced: " + data[9:].decode(errors="replace")
        )
    return data[9:]


def _limit_cpu(seconds: float) -> None:
    """A backstop in case the parent is gone and cannot kill this child."""
    import resource

    limit = int(seconds) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (limit, limit + 1))


def _read_until(fd: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            raise TimeoutError
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:  # pragma: no cover - already reaped
        pass
