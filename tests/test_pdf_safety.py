"""Printing is safe: documents fetch nothing, embed nothing, and cannot hang a worker."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pypdf import PdfReader
from test_pdf_records import complaint, events_of, get_pdf, pdf_text

from casework.errors import Unavailable
from casework.printing import fetcher, render


class Probe:
    """An HTTP server on loopback that counts every request it gets."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        probe = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                probe.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/css")
                self.end_headers()
                self.wfile.write(b"body { color: red }")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Probe:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def probe() -> Iterator[Probe]:
    with Probe() as running:
        yield running


def hostile(port: int) -> list[str]:
    base = f"http://127.0.0.1:{port}"
    return [
        f'<link rel="stylesheet" href="{base}/link.css">',
        f"<style>@import url({base}/import.css);</style>",
        '<div style="background: url(file:///etc/passwd)">x</div>',
        f"<img src={base}/img.png>",
        f'<a rel="attachment" href="{base}/attach.txt">a</a>',
        '<link rel="attachment" href="file:///etc/passwd">',
        f'<svg><image href="{base}/svg.png"/><use xlink:href="{base}/use.svg#x"/></svg>',
        f"<iframe src={base}/frame></iframe><object data={base}/object></object>",
    ]


def embedded_files(content: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(content))
    found = []
    names = reader.trailer["/Root"].get("/Names")
    if names is not None and "/EmbeddedFiles" in names.get_object():
        found.append("EmbeddedFiles")
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            if annotation.get_object().get("/Subtype") == "/FileAttachment":
                found.append("FileAttachment")
    return found


def test_hostile_fields_are_printed_as_text_and_fetch_nothing(app, api, probe):
    pieces = hostile(probe.port)
    number = complaint(
        api,
        summary=pieces[0][:200],
        content="\n".join(pieces),
        patron=pieces[3],
        branch="url(file:///etc/passwd)",
    )
    api.post(f"/cases/{number}/notes", "librarian", json={"text": " ".join(pieces)})
    for path in (f"/cases/{number}/record.pdf", f"/cases/{number}/record.pdf?redacted=1"):
        content = get_pdf(api, path, "librarian")
        assert embedded_files(content) == []
        assert b"/Launch" not in content and b"/URI" not in content
    text = pdf_text(get_pdf(api, f"/cases/{number}/record.pdf", "librarian"))
    assert f"<img src=http://127.0.0.1:{probe.port}/img.png>" in text
    assert "@import url(" in text
    time.sleep(0.2)
    assert probe.requests == []


def test_the_fetcher_stops_hostile_html_even_unescaped(probe):
    """Were a template ever to let markup through, the renderer itself still fetches nothing."""
    html = (
        "<html lang='en'><head><title>t</title>"
        + "".join(hostile(probe.port))
        + "</head><body><p>body</p>"
        + "".join(hostile(probe.port))
        + "</body></html>"
    )
    content = render.pdf_of(html, identifier=b"test", time_limit=60)
    assert embedded_files(content) == []
    assert "root:" not in pdf_text(content)
    time.sleep(0.2)
    assert probe.requests == []


def test_the_fetcher_serves_only_bundled_print_files(tmp_path):
    root = fetcher.print_folder()
    css = root / "print.css"
    assert fetcher.bundled_file(css.as_uri(), root) == css
    refused = [
        "file:///etc/passwd",
        root.as_uri() + "/../../casework/__init__.py",
        root.as_uri() + "/%2e%2e/%2e%2e/pyproject.toml",
        root.as_uri() + "/fonts",
        "file://otherhost" + str(css),
        "http://127.0.0.1/print.css",
    ]
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    link = tmp_path / "print"
    link.mkdir()
    (link / "escape.css").symlink_to(outside)
    refused.append((link / "escape.css").as_uri())
    for url in refused:
        with pytest.raises(fetcher.RefusedURL):
            fetcher.bundled_file(url, link if "escape" in url else root)
    content, media_type = fetcher.data_url("data:text/css;base64,Ym9keXt9")
    assert (content, media_type) == (b"body{}", "text/css")


def test_a_render_that_overruns_its_time_limit_is_stopped():
    started = time.monotonic()
    with pytest.raises(Unavailable) as refused:
        render.in_child(lambda: time.sleep(30) or b"", time_limit=0.5)
    assert time.monotonic() - started < 5
    assert "0.5 seconds" in refused.value.message
    with pytest.raises(Unavailable):
        render.in_child(lambda: 1 / 0 and b"", time_limit=5)  # type: ignore[func-returns-value]
    assert render.in_child(lambda: b"fine", time_limit=5) == b"fine"


def test_a_print_that_times_out_is_a_503_and_records_nothing(make_app, cast):
    app = make_app(PRINT_TIME_LIMIT=0.001)
    client = app.test_client()
    headers = cast.headers("librarian")
    created = client.post(
        "/api/v1/cases",
        headers=headers,
        json={"workflow": "complaint", "fields": {"summary": "Slow", "channel": "email"}},
    )
    number = created.get_json()["number"]
    before = len(events_of(app, number))
    response = client.get(f"/api/v1/cases/{number}/record.pdf", headers=headers)
    assert response.status_code == 503
    assert "took longer than" in response.get_json()["error"]["message"]
    assert len(events_of(app, number)) == before


def test_weasyprint_is_imported_only_when_a_pdf_is_made():
    code = (
        "import sys\n"
        "from casework import create_app\n"
        "app = create_app({'DATABASE_URL': 'sqlite://', 'SECRET_KEY': 'x'})\n"
        "import casework.api.printing, casework.printing.history, casework.printing.registry\n"
        "import casework.printing.certificate, casework.printing.packet, casework.cli\n"
        "assert 'weasyprint' not in sys.modules, 'weasyprint imported'\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env)
    assert result.returncode == 0, result.stderr.decode()
