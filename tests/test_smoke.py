"""The first path through the engine: open, fire, audit."""

from casework.extensions import db
from casework.services.verification import verify_chains


def test_complaint_engaged_then_resolved_keeps_a_valid_chain(app, api):
    case = api.open("librarian", "complaint", summary="Hours wrong", channel="facebook")
    assert case["number"].startswith("CMP-")
    assert case["state"] == "received" and case["version"] == 1
    assert case["due_at"] is not None and case["overdue"] is False
    engaged = api.ok("librarian", case["number"], "engage", response="Answered on Facebook")
    assert engaged["state"] == "engaged" and engaged["version"] == 2 and engaged["due_at"] is None
    resolved = api.ok("director", case["number"], "resolve", resolution="Fixed")
    assert resolved["state"] == "resolved"
    events = api.get(f"/cases/{case['number']}/events", "librarian").get_json()["items"]
    assert [e["action"] for e in events] == ["created", "transition", "transition"]
    assert [e["to_state"] for e in events] == ["received", "engaged", "resolved"]
    with app.app_context():
        result = verify_chains()
        db.session.rollback()
    assert result.ok and result.events == 3
