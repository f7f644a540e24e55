"""Disposal: refused before eligibility and under a hold; afterwards the content is nowhere,
the tombstone answers, and the audit trail still verifies."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from test_canary_leaks import everything_seen, plant

from casework.errors import Refused
from casework.extensions import db
from casework.models import (
    Blob,
    Case,
    CaseDisposal,
    DisposalBatch,
    Event,
    OutboxMessage,
    Person,
    RenderedDocument,
    User,
    utcnow,
)
from casework.printing.certificate import certificate_pdf
from casework.services import disposal
from casework.services.verification import verify_chains

CANARY = "wombatcanaryZ"
YEAR = timedelta(days=366)


def user(name: str) -> User:
    found: User = db.session.execute(sa.select(User).where(User.username == name)).scalar_one()
    return found


def closed_complaint(api, text: str = "Loud music") -> str:
    number: str = api.open("librarian", "complaint", summary=text, channel="email")["number"]
    api.ok("librarian", number, "engage", response=f"Answered {text}")
    api.ok("librarian", number, "resolve", resolution=f"Resolved {text}")
    return number


def prepare(app, schedule: str, when, who: str = "records") -> int:
    with app.app_context():
        batch = disposal.prepare_batch(user(who), schedule, certificate_pdf, now=when)
        db.session.commit()
        return batch.id


def confirm(app, batch_id: int, when, who: str = "records") -> disposal.Confirmed:
    with app.app_context():
        batch = disposal.load_batch(user(who), batch_id, write=True)
        done = disposal.confirm_batch(user(who), batch, now=when)
        db.session.commit()
        return done


def test_a_case_not_yet_eligible_is_refused_with_the_reason(app, api, cast):
    closed_complaint(api)
    with app.app_context():
        with pytest.raises(Refused, match="No case of the series with schedule number ADM-12"):
            disposal.prepare_batch(
                user("records"), "ADM-12", certificate_pdf, now=utcnow() + 4 * YEAR
            )
        with pytest.raises(Exception, match="records officer or the Library Director"):
            disposal.prepare_batch(
                user("librarian"), "ADM-12", certificate_pdf, now=utcnow() + 6 * YEAR
            )


def test_the_waiting_period_and_a_hold_block_the_disposal(app, api, cast):
    held = closed_complaint(api, "Held one")
    free = closed_complaint(api, "Free one")
    later = utcnow() + 5 * YEAR + timedelta(days=2)
    batch_id = prepare(app, "ADM-12", later)
    with app.app_context():
        batch = db.session.get(DisposalBatch, batch_id)
        assert batch is not None and batch.numbers == sorted([held, free])
        # 15 business days: three weeks at least.
        assert (batch.wait_until - later.date()).days >= 21
        with pytest.raises(Refused, match="waiting period after the certificate ends"):
            disposal.confirm_batch(user("records"), batch, now=later + timedelta(days=7))
        db.session.rollback()
    placed = api.post(
        f"/cases/{held}/holds", "director", json={"kind": "litigation", "reason": "Suit 12"}
    )
    assert placed.status_code == 201
    done = confirm(app, batch_id, later + timedelta(days=40))
    assert done.disposed == [free]
    assert len(done.kept) == 1 and "legal hold" in done.kept[0] and held in done.kept[0]
    assert api.get(f"/cases/{held}", "director").status_code == 200
    gone = api.get(f"/cases/{free}", "director")
    assert gone.status_code == 410
    tombstone = gone.get_json()["tombstone"]
    assert tombstone["number"] == free and tombstone["schedule"] == "ADM-12"
    assert tombstone["confirmed_by"] == "records" and len(tombstone["certificate_sha256"]) == 64
    # Confirming again changes nothing.
    again = confirm(app, batch_id, later + timedelta(days=41))
    assert again.disposed == [free]
    with app.app_context():
        assert db.session.query(CaseDisposal).count() == 1
        result = verify_chains(log_outside=[])
        assert result.ok, (result.broken, result.log_report)
        assert [number for number, _, _ in result.erased] == [free]


def test_after_disposal_the_content_is_nowhere_and_the_trail_verifies(app, api, cast, cli):  # noqa: F811
    with app.app_context():
        for u in db.session.execute(sa.select(User)).scalars():
            u.email = f"{u.username}@library.example"
        db.session.commit()
    number = plant(api, cast, subject="olive", reporter="staff", canary=CANARY)
    complaint = closed_complaint(api, "Shared evidence")
    # The same evidence bytes on a live case: they stay.
    shared = b"evidence shared with a live case"
    for n in (number, complaint):
        who = "director"
        upload = api.post(
            f"/cases/{n}/attachments",
            who,
            data={"file": (io.BytesIO(shared), "shared.txt")},
            content_type="multipart/form-data",
        )
        assert upload.status_code == 201
    # A kept PDF and an employee history of the subject.
    assert api.get(f"/cases/{number}/record.pdf", "director").status_code == 200
    assert api.get(f"/people/{cast.person_ids['olive']}/history.pdf", "director").status_code == 200
    with app.app_context():
        olive = db.session.get(Person, cast.person_ids["olive"])
        assert olive is not None
        olive.separated_on = date(2027, 1, 15)
        db.session.commit()
        assert db.session.query(RenderedDocument).count() >= 2
    when = utcnow().replace(year=2037, month=2, day=1)
    with app.app_context():
        with pytest.raises(Refused):
            disposal.prepare_batch(
                user("records"), "PER-04", certificate_pdf, now=when.replace(year=2036)
            )
    batch_id = prepare(app, "PER-04", when)
    done = confirm(app, batch_id, when + timedelta(days=60))
    assert done.disposed == [number] and done.kept == []
    verified = cli("audit", "verify")
    assert "erased by disposal: " in verified and number in verified
    with app.app_context():
        case = db.session.execute(sa.select(Case).where(Case.number == number)).scalar_one()
        assert case.fields_json == "{}" and case.title == ""
        events = list(db.session.execute(sa.select(Event).where(Event.case_id == case.id)))
        assert events and all(e.data_json == "{}" for (e,) in events[:-1])
        assert events[-1][0].action == "disposed"
        assert db.session.get(Blob, _sha(shared)) is not None  # the live case keeps its file
        assert all(
            CANARY not in (m.body_text + m.body_html + m.subject)
            for m in db.session.execute(sa.select(OutboxMessage)).scalars()
        )
        assert (
            db.session.query(RenderedDocument).filter(RenderedDocument.case_id == case.id).count()
            == 0
        )
        leaks = _rows_holding(CANARY)
    assert leaks == []
    for who in ("director", "hr", "records"):
        seen = everything_seen(app, cast, who, [number])
        found = [where for where, text in seen.items() if CANARY in text]
        assert found == [], (who, found)
    for path in (f"/cases/{number}", f"/cases/{number}/record.pdf", f"/cases/{number}/events"):
        answer = api.get(path, "director")
        assert answer.status_code == 410, answer.get_data(as_text=True)
    download = api.get(f"/cases/{number}/attachments/{_sha(shared)}", "director")
    assert download.status_code == 410
    from tests.webpages import Visitor

    page = Visitor(app, "director").get(f"/cases/{number}")
    assert page.status_code == 410 and "disposal batch" in page.text and "PER-04" in page.text


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _rows_holding(text: str) -> list[str]:
    """Every table (the full-text index included) with a row holding `text`."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        names = connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        ).scalars()
    else:
        names = connection.exec_driver_sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        ).scalars()
    found = []
    needle = text.encode()
    for name in list(names):
        for row in connection.exec_driver_sql(f'SELECT * FROM "{name}"'):  # noqa: S608
            for value in row:
                if isinstance(value, str) and text in value:
                    found.append(name)
                elif isinstance(value, bytes | memoryview) and needle in bytes(value):
                    found.append(name)
    return sorted(set(found))


def test_the_database_allows_only_erasure_and_verify_catches_an_unrecorded_one(app, api):
    number = closed_complaint(api, "Tamper target")
    with app.app_context():
        case_id = db.session.execute(sa.select(Case.id).where(Case.number == number)).scalar_one()
        for change in ("actor = 'someone'", "data_json = '{}'", "hash = 'x'"):
            with pytest.raises(sa.exc.DBAPIError):
                with db.engine.begin() as connection:
                    connection.exec_driver_sql(
                        f"UPDATE events SET {change} WHERE case_id = {case_id} AND seq = 2"  # noqa: S608
                    )
        # Erasing an event's data is possible, but without a disposal after it verify says so.
        with db.engine.begin() as connection:
            connection.execute(
                sa.update(Event)
                .where(Event.case_id == case_id, Event.seq == 2)
                .values(data_json="{}", erased_at=utcnow())
            )
        result = verify_chains()
        assert [(b.case, b.seq) for b in result.broken] == [(number, 2)]
        assert "no disposal recorded after it" in result.broken[0].problem


def test_the_records_officer_prepares_and_confirms_on_the_pages(app, api, cast, cli):  # noqa: F811
    from tests.test_pdf_records import pdf_text
    from tests.webpages import Visitor

    number = closed_complaint(api, "Old complaint")
    young = closed_complaint(api, "Young complaint")
    with app.app_context():
        # Closed long ago: eligible today.
        db.session.execute(
            sa.update(Case)
            .where(Case.number == number)
            .values(closed_at=utcnow().replace(year=2019))
        )
        db.session.commit()
    listed = cli("retention")
    assert f"{number}  ADM-12  Patron complaints and comments: eligible now" in listed
    assert young not in listed
    officer = Visitor(app, "records")
    page = officer.get("/retention")
    assert page.status_code == 200 and number in page.text and young not in page.text
    assert "Prepare a disposal batch of 1 case (ADM-12)" in page.text
    assert Visitor(app, "librarian").get("/retention").status_code == 403
    prepared = officer.post("/retention/batches", {"schedule": "ADM-12"})
    assert prepared.status_code == 302
    batch_page = officer.get(prepared.headers["Location"])
    assert "Certificate SHA-256" in batch_page.text and "may be confirmed from" in batch_page.text
    with app.app_context():
        batch = db.session.execute(sa.select(DisposalBatch)).scalar_one()
        certificate = pdf_text(batch.certificate)
        assert _sha(batch.certificate) == batch.certificate_sha256
    for expected in ("Patron complaints and comments", "ADM-12", number, "Number of cases 1"):
        assert expected in certificate, expected
    download = officer.get(f"/retention/batches/{batch.id}/certificate.pdf")
    assert download.data == batch.certificate
    # Within the waiting period: refused, with the day it ends.
    early = officer.post(f"/retention/batches/{batch.id}/confirm")
    assert (
        "waiting period after the certificate ends" in officer.get(early.headers["Location"]).text
    )
    assert api.get(f"/cases/{number}", "director").status_code == 200
    with app.app_context():
        db.session.execute(
            sa.update(DisposalBatch).values(wait_until=date.today() - timedelta(days=1))
        )
        db.session.commit()
    done = officer.post(f"/retention/batches/{batch.id}/confirm")
    assert "1 case(s) disposed of" in officer.get(done.headers["Location"]).text
    gone = Visitor(app, "director").get(f"/cases/{number}")
    assert gone.status_code == 410 and f"disposal batch {batch.id}" in gone.text
    assert cli("retention", "confirm", str(batch.id), "--as", "records").startswith(
        f"batch {batch.id}: 1 case(s) disposed of"
    )
