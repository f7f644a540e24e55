"""Retention rules live in the workflow files: validated at start-up, shown, and computed."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from casework.cli import workflows
from casework.models import Case
from casework.paths import resource_dir
from casework.services.retention import add_years, eligibility
from casework.workflow import WorkflowFileError, load_registry
from tests.test_workflow_files import edit, folder  # noqa: F401  (the fixture)
from tests.webpages import Visitor

NY = ZoneInfo("America/New_York")


BREAKAGES = [
    ("complaint", "years = 5\n", "years = 0\n", "retention: 'years' must be a whole number"),
    ("complaint", 'after = "closed"', 'after = "opened"', "retention: 'after' must be one of"),
    ("complaint", 'schedule = "ADM-12"\n', "", "retention: 'schedule' must be a non-empty"),
    ("complaint", "years = 5\n", "years = 5\nmonths = 2\n", "retention: unknown key 'months'"),
    ("complaint", "years = 5\n", "years = 5\npermanent = true\n", "a permanent series has no"),
    ("complaint", 'after = "closed"', 'after = "separation"', "needs a workflow whose cases"),
    (
        "account",
        "[retention.by_state.denied]",
        "[retention.by_state.approved]",
        "retention.by_state.approved: 'approved' is not an end state",
    ),
    (
        "account",
        "[retention.by_state.denied]",
        "[retention.by_state.closed]",
        "retention.by_state: unknown key 'closed'",
    ),
]


@pytest.mark.parametrize(("key", "old", "new", "reason"), BREAKAGES)
def test_a_broken_rule_stops_start_up_naming_file_key_and_reason(folder, key, old, new, reason):  # noqa: F811
    edit(folder, key, old, new)
    with pytest.raises(WorkflowFileError) as caught:
        load_registry(folder)
    message = str(caught.value)
    assert f"{key}.toml" in message and f"workflow {key}" in message
    assert reason in message


def test_every_shipped_workflow_has_a_rule_and_end_states_may_differ():
    registry = load_registry(resource_dir("workflows"))
    for w in registry:
        assert w.retention is not None, w.key
        for state in w.terminal_states:
            assert w.retention.for_state(state).series
    account = registry.get("account")
    assert account.retention is not None
    assert account.retention.for_state("retired").period == "5 years after the case is closed"
    denied = account.retention.for_state("denied")
    assert (denied.schedule, denied.years, denied.after) == ("PR-06a", 3, "closed")
    violation = registry.get("violation").retention
    assert violation is not None
    assert violation.rule.period == "10 years after the subject's separation"


def test_a_permanent_end_state(folder):  # noqa: F811
    edit(
        folder,
        "complaint",
        'after = "closed"\n',
        'after = "closed"\n\n[retention.by_state.resolved]\npermanent = true\n',
    )
    w = load_registry(folder).get("complaint")
    assert w.retention is not None
    rule = w.retention.for_state("resolved")
    assert rule.permanent and rule.period == "permanent" and rule.series == w.retention.rule.series
    case = Case(state="resolved", closed_at=datetime(2020, 1, 1))
    assert eligibility(case, w, None, NY).on is None


def test_eligibility_counts_from_closing_or_from_separation():
    registry = load_registry(resource_dir("workflows"))
    complaint = registry.get("complaint")
    still_open = eligibility(Case(state="engaged", closed_at=None), complaint, None, NY)
    assert still_open.on is None and still_open.rule is not None
    # 03:00 UTC on 2 March is still 1 March in Ohio.
    closed = Case(state="resolved", closed_at=datetime(2021, 3, 2, 3, 0))
    found = eligibility(closed, complaint, None, NY)
    assert found.on == date(2026, 3, 1)
    assert found.eligible(date(2026, 3, 1)) and not found.eligible(date(2026, 2, 28))
    violation = registry.get("violation")
    decided = Case(state="dismissed", closed_at=datetime(2015, 1, 1))
    assert eligibility(decided, violation, None, NY).on is None
    assert eligibility(decided, violation, date(2016, 6, 30), NY).on == date(2026, 6, 30)
    assert add_years(date(2024, 2, 29), 5) == date(2029, 2, 28)


def test_workflows_show_and_the_workflow_page_name_the_series(app, runner, cast):
    out = runner.invoke(workflows, ["show", "account"]).output
    assert "Retention:" in out
    assert "denied: Social media account requests, denied (schedule PR-06a), 3 years" in out
    page = Visitor(app, "staff").get("/workflows/violation").text
    assert "Personnel files: disciplinary records" in page and "PER-04" in page
    assert "10 years after the subject&#39;s separation" in page
