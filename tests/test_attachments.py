"""Evidence files: checked by content, size-limited, stored once by SHA-256, always downloads."""

from __future__ import annotations

import hashlib
import io

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
TEXT = "Screenshot transcript: «hello» ✓\n".encode()


def upload(api, number, data, name, user="librarian"):
    # Encoded in memory: the test client would spool large bodies to files it never closes.
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), filename=name)})
    return api.post(
        f"/cases/{number}/attachments",
        user,
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


@pytest.fixture
def number(api):
    return api.open("librarian", "complaint", summary="Evidence", channel="facebook")["number"]


@pytest.mark.parametrize(
    ("data", "name", "media_type", "stored_name"),
    [
        (PNG, "shot.png", "image/png", "shot.png"),
        (JPEG, "photo.jpeg", "image/jpeg", "photo.jpeg"),
        (PDF, "letter.pdf", "application/pdf", "letter.pdf"),
        (TEXT, "notes.txt", "text/plain", "notes.txt"),
        (PNG, "invoice.pdf", "image/png", "invoice.pdf.png"),
        (PDF, "a.pdf\x00.exe", "application/pdf", "a.pdf"),
        (TEXT, "../../etc/passwd", "text/plain", "passwd.txt"),
        (TEXT, "evil\u202etxt.exe", "text/plain", "eviltxt.exe.txt"),
    ],
)
def test_files_are_typed_by_content_and_named_safely(
    api, number, data, name, media_type, stored_name
):
    response = upload(api, number, data, name)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body == {
        "sha256": hashlib.sha256(data).hexdigest(),
        "name": stored_name,
        "size": len(data),
        "type": media_type,
    }
    download = api.get(f"/cases/{number}/attachments/{body['sha256']}", "librarian")
    assert download.status_code == 200
    assert download.data == data
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["Content-Type"].startswith(media_type)
    case = api.get(f"/cases/{number}", "librarian").get_json()
    assert case["attachments"] == [body]
    actions = [
        e["action"] for e in api.get(f"/cases/{number}/events", "librarian").get_json()["items"]
    ]
    assert actions == ["created", "attachment", "download"]


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00\x03binary",
        b"<html><script>alert(1)</script>\x00",
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff",
    ],
)
def test_other_content_is_refused_whatever_its_name(api, number, data):
    response = upload(api, number, data, "harmless.txt")
    assert response.status_code == 422
    assert "file" in response.get_json()["error"]["fields"]
    assert api.get(f"/cases/{number}", "librarian").get_json()["attachments"] == []


def test_files_over_the_limit_get_413_and_nothing_is_stored(make_app, api_for):
    app = make_app(MAX_UPLOAD_MB=1)
    api = api_for(app)
    number = api.open("librarian", "complaint", summary="Big", channel="email")["number"]
    exactly = b"a" * (1024 * 1024)
    assert upload(api, number, exactly, "ok.txt").status_code == 201
    too_big = upload(api, number, exactly + b"b", "big.txt")
    assert too_big.status_code == 413
    assert len(api.get(f"/cases/{number}", "librarian").get_json()["attachments"]) == 1


def test_the_same_file_twice_is_stored_once(api, number):
    first = upload(api, number, PNG, "a.png").get_json()
    second = upload(api, number, PNG, "b.png").get_json()
    assert first == second
    assert len(api.get(f"/cases/{number}", "librarian").get_json()["attachments"]) == 1


def test_uploads_need_exactly_one_file_field(api, number):
    none = api.post(
        f"/cases/{number}/attachments", "librarian", data={}, content_type="multipart/form-data"
    )
    assert none.status_code == 422
    parts = {f"file{i}": (io.BytesIO(b"x"), f"{i}.txt") for i in range(60)}
    many = api.post(
        f"/cases/{number}/attachments", "librarian", data=parts, content_type="multipart/form-data"
    )
    assert many.status_code in (413, 422)
    empty = upload(api, number, b"", "empty.txt")
    assert empty.status_code == 422


def test_unknown_attachments_are_not_found(api, number):
    assert api.get(f"/cases/{number}/attachments/{'a' * 64}", "librarian").status_code == 404
    assert api.get(f"/cases/{number}/attachments/../../etc/passwd", "librarian").status_code == 404
