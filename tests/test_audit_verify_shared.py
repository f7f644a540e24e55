"""A trail verified in helper processes gets exactly the verdicts of one verified in one process.

Large trails are shared out among helpers by runs of event ids, so a case's chain is split
across runs and joined up again; every tampering must still be named at the same case and event.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tampering import tamper

from casework.extensions import db
from casework.models import Case
from casework.services.audit import verify_chains


@pytest.fixture
def interleaved(api):
    """Four cases whose events alternate in storage, so every chain crosses every run."""
    numbers = [
        api.open("librarian", "complaint", summary=f"Complaint {i}", channel="email")["number"]
        for i in range(4)
    ]
    for step in range(3):
        for number in numbers:
            api.post(f"/cases/{number}/notes", "librarian", json={"text": f"Note {step} «ok»"})
    api.ok("librarian", numbers[0], "engage", response="Answered")
    return numbers


def case_id(app, number):
    with app.app_context():
        return db.session.execute(sa.select(Case.id).where(Case.number == number)).scalar_one()


def verdicts(app, processes):
    with app.app_context():
        result = verify_chains(processes=processes)
        db.session.rollback()
        return result.events, [(b.case, b.seq, b.problem) for b in result.broken]


TAMPERINGS = {
    "changed data": 'UPDATE events SET data_json = \'{"text":"x"}\' WHERE case_id = :a AND seq = 3',
    "deleted event": "DELETE FROM events WHERE case_id = :a AND seq = 2",
    "cut tail": "DELETE FROM events WHERE case_id = :b AND seq >= 3",
    "moved event": "UPDATE events SET case_id = :b, seq = 9 WHERE case_id = :a AND seq = 4",
    "renumbered event": "UPDATE events SET seq = 7 WHERE case_id = :b AND seq = 2",
    "no events left": "DELETE FROM events WHERE case_id = :b",
}


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_helpers_name_every_tampering_as_one_process_does(app, interleaved, name):
    clean = verdicts(app, 2)
    assert clean == (17, [])
    ids = {"a": case_id(app, interleaved[0]), "b": case_id(app, interleaved[1])}
    tamper(app, (TAMPERINGS[name], ids))
    alone = verdicts(app, 1)
    assert alone[1], "the tampering went unnoticed"
    assert {case for case, _, _ in alone[1]} <= {interleaved[0], interleaved[1]}
    assert verdicts(app, 2) == alone
    assert verdicts(app, 3) == alone
