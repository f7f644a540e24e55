"""Release packets: nothing withheld is in a released PDF, whether its text is extracted or its
raw bytes (and every decompressed stream) are searched; bad input changes nothing."""

from __future__ import annotations

import hashlib
import io
import re
import zlib

import pytest
import sqlalchemy as sa
from pdfstructure import structure_problems
from pypdf import PdfReader
from test_pdf_records import pdf_text

from casework.extensions import db
from casework.library.authorities import DEFAULT_AUTHORITIES, load_authorities
from casework.models import Case, Event, ReleasePacket
from casework.printing.withholding import cut_value, passage_pattern
from casework.services.verification import verify_chains

PATRON = "Zelda Quux-Patron"
COMMENT = "Why was story time cancelled, Zelda?"
REQUESTER = "Requester Rhona Vance"
NOTE = (
    "Jordan Blake said SECRET-PASSAGE-4411 at the desk.\n"
    "Later Jordan Blake repeated SECRET-PASSAGE-4411 on the phone."
)
ODD = "Ünïcødé «quoted» & <b>bold</b> \u202eright-to-left 42%"
RESPONSE = f"Apologised. Staff member's home: {ODD}. Posted the new schedule."


def raw_scan_targets(content: bytes) -> list[bytes]:
    """The file's bytes, and each of its streams decompressed (where Flate-compressed)."""
    found = [content]
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", content, re.S):
        try:
            found.append(zlib.decompress(m.group(1)))
        except zlib.error:
            found.append(m.group(1))
    return found


def encodings(text: str) -> list[bytes]:
    out = [text.encode("utf-8"), text.encode("utf-16-be")]
    try:
        out.append(text.encode("latin-1"))
    except UnicodeEncodeError:
        pass
    return out


def assert_nowhere(content: bytes, secret: str) -> None:
    text = pdf_text(content)
    squeezed = "".join(text.split()).casefold()
    assert " ".join(secret.split()).casefold() not in text.casefold(), secret
    assert "".join(secret.split()).casefold() not in squeezed, secret
    reader = PdfReader(io.BytesIO(content))
    meta = " ".join(str(v) for v in (reader.metadata or {}).values())
    assert secret not in meta
    for blob in raw_scan_targets(content):
        for word in {secret, *secret.split()} if len(secret.split()) == 1 else {secret}:
            for encoded in encodings(word):
                assert encoded not in blob, (secret, word)


@pytest.fixture
def world(api):
    """A complaint with passages to withhold and an acknowledged request for it."""
    complaint = api.open(
        "librarian",
        "complaint",
        summary="Story time cancelled; Jordan Blake blamed",
        channel="facebook",
        patron=PATRON,
        content=COMMENT,
    )["number"]
    api.ok("librarian", complaint, "engage", response=RESPONSE)
    assert api.post(f"/cases/{complaint}/notes", "director", json={"text": NOTE}).status_code == 201
    request = api.open(
        "records",
        "records_request",
        request="Every complaint about story time",
        delivery="email",
        requester=REQUESTER,
    )["number"]
    api.ok("records", request, "acknowledge")
    return complaint, request


def withholdings(complaint: str) -> list[dict[str, str]]:
    return [
        {"case": complaint, "passage": "Jordan Blake", "authority": "R.C. 149.43(A)(1)(p)"},
        # Overlaps the one before, and occurs twice.
        {
            "case": complaint,
            "passage": "Blake said SECRET-PASSAGE-4411",
            "authority": "R.C. 149.43(A)(1)(v)",
        },
        {"case": complaint, "passage": "secret-passage-4411", "authority": "R.C. 149.43(A)(1)(v)"},
        # Odd characters, and a line break in the text where the passage has a space.
        {"case": complaint, "passage": ODD, "authority": "R.C. 149.43(A)(1)(p)"},
        {"case": complaint, "passage": "at the desk. Later", "authority": "R.C. 149.432"},
    ]


def release(api, request, cases, held, who="director"):
    return api.post(f"/cases/{request}/packets", who, json={"cases": cases, "withholdings": held})


def test_a_released_packet_holds_nothing_withheld(app, api, world):
    complaint, request = world
    held = withholdings(complaint)
    response = release(api, request, [complaint], held)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    download = api.get(body["download"].removeprefix("/api/v1"), "director")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    content = download.data
    assert hashlib.sha256(content).hexdigest() == body["sha256"]
    # Tagged like every other document (PDF/UA): every piece of text in the structure tree.
    assert structure_problems(content) == []
    text = pdf_text(content)
    # What is not withheld is there, and each withholding shows as a box with its authority.
    assert f"Release packet for {request}" in text
    assert "Story time cancelled;" in text and "blamed" in text
    assert "Apologised. Staff member's home:" in text
    assert "withheld (R.C. 149.43(A)(1)(p))" in text
    assert "R.C. 149.432: library patron records" in text
    for secret in (
        "Jordan Blake",
        "SECRET-PASSAGE-4411",
        ODD,
        "at the desk. Later",
        PATRON,
        COMMENT,
    ):
        assert_nowhere(content, secret)
    for word in ("Jordan", "Blake", "Ünïcødé", "bold"):
        assert_nowhere(content, word)
    # The list of withholdings names the case, the place and the authority, never the text.
    places = {(w["case"], w["place"], w["authority"]) for w in body["withholdings"]}
    assert (complaint, "Intake: Summary", "R.C. 149.43(A)(1)(p)") in places
    assert (complaint, "Title", "R.C. 149.43(A)(1)(p)") in places
    assert any(p.startswith("Timeline") and a == "R.C. 149.432" for _, p, a in places)
    assert "Jordan" not in str(body) and "SECRET" not in str(body)
    # The request's trail holds the hash and the withholdings, in the event of the release.
    events = api.get(f"/cases/{request}/events", "director").get_json()["items"]
    released = [e for e in events if e["action"] == "packet_released"]
    assert len(released) == 1
    assert released[0]["data"]["sha256"] == body["sha256"]
    assert released[0]["data"]["withholdings"] == body["withholdings"]
    assert released[0]["data"]["cases"] == [complaint]
    assert "Jordan" not in str(events)
    # The records officer reads the request's trail but may not see the complaint: not named.
    theirs = api.get(f"/cases/{request}/events", "records").get_json()["items"]
    assert complaint not in str(theirs)
    # The packet's print is recorded on the case it holds.
    printed = api.get(f"/cases/{complaint}/events", "director").get_json()["items"]
    assert printed[-1]["action"] == "print"
    assert printed[-1]["data"]["document"] == "release packet"
    with app.app_context():
        checked = verify_chains()
    assert checked.ok, checked.broken


def test_the_packet_is_listed_and_kept_byte_for_byte(app, api, world):
    complaint, request = world
    body = release(api, request, [complaint], withholdings(complaint)).get_json()
    listed = api.get(f"/cases/{request}/packets", "director").get_json()["items"]
    assert [p["sha256"] for p in listed] == [body["sha256"]]
    with app.app_context():
        row = db.session.execute(sa.select(ReleasePacket)).scalar_one()
        assert hashlib.sha256(row.content).hexdigest() == body["sha256"]
    # The records officer reads the request but not the complaint: neither named nor given.
    mine = api.get(f"/cases/{request}/packets", "records").get_json()["items"]
    assert mine[0]["cases"] == [] and mine[0]["download"] is None
    assert complaint not in str(mine)
    assert api.get(f"/cases/{request}/packets/{body['id']}.pdf", "records").status_code == 404
    for who in ("staff", "librarian", "hr", "social", "admin"):
        assert api.get(f"/cases/{request}/packets/{body['id']}.pdf", who).status_code in (403, 404)


def state_of(app, request):
    with app.app_context():
        case = db.session.execute(sa.select(Case).where(Case.number == request)).scalar_one()
        events = db.session.execute(
            sa.select(sa.func.count()).select_from(Event).where(Event.case_id == case.id)
        ).scalar()
        packets = db.session.execute(sa.select(sa.func.count()).select_from(ReleasePacket)).scalar()
        return case.head_seq, events, packets


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"authority": "R.C. 999.99"}, "withholdings.0.authority"),
        ({"passage": "Never written anywhere"}, "withholdings.0.passage"),
        # A confidential value is withheld already: it is not in the releasable text.
        ({"passage": PATRON}, "withholdings.0.passage"),
        ({"passage": "   "}, "withholdings.0.passage"),
        ({"passage": "nul \x00 here"}, "withholdings.0.passage"),
        ({"case": "CMP-2026-9999"}, "withholdings.0.case"),
        ({"passage": 42}, "withholdings.0.passage"),
    ],
)
def test_bad_withholdings_are_refused_naming_the_field(app, api, world, change, field):
    complaint, request = world
    before = state_of(app, request)
    held = [{"case": complaint, "passage": "Jordan Blake", "authority": "R.C. 149.432", **change}]
    response = release(api, request, [complaint], held)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert state_of(app, request) == before


def test_a_case_the_releaser_may_not_read_is_refused_without_saying_why(app, api, world, cast):
    complaint, request = world
    before = state_of(app, request)
    violation = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["olive"],
        category="harassment",
        description="A post",
    )["number"]
    for cases in ([complaint], [violation], ["CMP-2026-9999"]):
        response = release(api, request, cases, [], who="records")
        assert response.status_code == 422
        fields = response.get_json()["error"]["fields"]
        assert list(fields) == ["cases"]
        assert "may read" in fields["cases"][0]
    assert release(api, request, [request], [], who="director").status_code == 422
    for bad in ({"cases": "CMP-1"}, {"cases": []}, {"cases": [complaint], "withholdings": "x"}):
        response = api.post(f"/cases/{request}/packets", "director", json=bad)
        assert response.status_code == 422
    assert state_of(app, request) == before


def test_a_packet_is_released_only_while_the_request_is_acknowledged(app, api, world):
    complaint, _ = world
    fresh = api.open("records", "records_request", request="Anything", delivery="post")["number"]
    response = release(api, fresh, [complaint], [])
    assert response.status_code == 422
    assert "received" in response.get_json()["error"]["message"]
    # Other case types take no packets at all.
    assert release(api, complaint, [complaint], []).status_code == 404


def test_a_preview_is_the_packet_unkept(app, api, world):
    complaint, request = world
    before = state_of(app, request)
    response = api.post(
        f"/cases/{request}/packets/preview",
        "director",
        json={"cases": [complaint], "withholdings": withholdings(complaint)},
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert_nowhere(response.data, "Jordan Blake")
    assert "Story time cancelled;" in pdf_text(response.data)
    assert state_of(app, request) == before


def test_cutting_merges_overlaps_and_finds_every_occurrence():
    authority = DEFAULT_AUTHORITIES[0]
    other = DEFAULT_AUTHORITIES[1]
    value = "abc ABC ab\nc xabcx"
    found = cut_value(value, [(passage_pattern("ab c"), authority)])
    assert found is not None
    parts, cited = found
    assert "".join(p.text for p in parts) == "abc ABC  xabcx"
    assert cited == [authority]
    overlapping = cut_value(
        "one two three",
        [
            (passage_pattern("one two"), authority),
            (passage_pattern("two three"), other),
        ],
    )
    assert overlapping is not None
    assert [p.text for p in overlapping[0]] == [""]
    assert overlapping[0][0].authority == f"{authority.code}; {other.code}"
    # Repeated and overlapping occurrences of one passage: "aa" in "aaa" is one box.
    repeated = cut_value("xaaay", [(passage_pattern("aa"), authority)])
    assert repeated is not None and [p.text for p in repeated[0]] == ["x", "", "y"]
    assert cut_value("nothing here", [(passage_pattern("absent"), authority)]) is None
    # Regular-expression characters are plain text.
    assert cut_value("a.*b", [(passage_pattern(".*"), authority)]) is not None
    assert cut_value("aXXb", [(passage_pattern(".*"), authority)]) is None


def test_a_library_lists_its_own_authorities(tmp_path, make_app):
    path = tmp_path / "authorities.toml"
    path.write_text('[[authority]]\ncode = "Local rule 7"\nlabel = "a test exception"\n')
    assert [a.code for a in load_authorities(path)] == ["Local rule 7"]
    path.write_text('[[authority]]\ncode = "X"\n')
    with pytest.raises(Exception, match="needs a code and a label"):
        load_authorities(path)


def test_the_packet_page_previews_refuses_and_releases(app, api, world):
    from webpages import Visitor, page_text

    complaint, request = world
    visitor = Visitor(app, "director")
    page = visitor.get(f"/cases/{request}/packet")
    assert page.status_code == 200
    assert "R.C. 149.432: library patron records" in page.text
    form = {
        "cases": complaint,
        "w-0-case": complaint,
        "w-0-passage": "Jordan Blake",
        "w-0-authority": "R.C. 149.432",
        "w-1-case": complaint,
        "w-1-passage": "Not in the text at all",
        "w-1-authority": "R.C. 149.432",
        "w-2-case": "",
        "w-2-passage": "",
        "w-2-authority": "",
    }
    before = state_of(app, request)
    refused = visitor.post(f"/cases/{request}/packet", {**form, "action": "release"})
    assert refused.status_code == 422
    text = page_text(refused.text)
    assert "There is a problem" in text and "Withholding 2, words to withhold" in text
    assert 'id="w-1-passage-error"' in refused.text
    assert state_of(app, request) == before
    form.update({"w-1-passage": "", "w-1-case": "", "w-1-authority": ""})
    preview = visitor.post(f"/cases/{request}/packet", {**form, "action": "preview"})
    assert preview.status_code == 200
    # The form keeps the passages typed; the preview below it shows none of them.
    shown = page_text(preview.text).split("Preview: what the packet will show", 1)[1]
    assert "Jordan Blake" not in shown and "withheld (R.C. 149.432)" in shown
    assert state_of(app, request) == before
    released = visitor.post(f"/cases/{request}/packet", {**form, "action": "release"})
    assert released.status_code == 302
    case_page = visitor.get(f"/cases/{request}")
    assert "Packet of event" in case_page.text
    assert state_of(app, request)[2] == before[2] + 1
