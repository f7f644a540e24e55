"""The two forms of the visibility rules (SQL for lists, Python for one case) always agree."""

from __future__ import annotations

import itertools

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casework.extensions import db
from casework.models import Case
from casework.services.access import Level, case_access, visible_clause
from casework.services.definitions import workflow_of
from casework.services.opening import open_case
from casework.services.people import create_person
from casework.services.users import create_user

ROLE_SETS = st.sets(
    st.sampled_from(
        ["staff", "librarian_in_charge", "director", "hr", "social_media_team", "trustee", "admin"]
    ),
    min_size=1,
    max_size=3,
)
_names = itertools.count()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    people=st.lists(st.tuples(ROLE_SETS, st.booleans()), min_size=2, max_size=6),
    reports=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=6),
)
def test_lists_show_exactly_the_cases_a_user_may_open(app, people, reports):
    with app.app_context():
        users = []
        for roles, has_person in people:
            user = create_user(f"u{next(_names)}", sorted(roles))
            person = create_person(
                user.username, f"E{user.username}", "", user.username if has_person else None
            )
            users.append((user, person))
        numbers = []
        for reporter_index, subject_index in reports:
            reporter, _ = users[reporter_index % len(users)]
            _, subject = users[subject_index % len(users)]
            if "staff" not in reporter.roles:
                continue
            case = open_case(
                reporter,
                "violation",
                {"subject": subject.id, "category": "workplace_impact", "description": "d"},
            )
            numbers.append(case.number)
        complaint_opener = create_user(f"u{next(_names)}", ["librarian_in_charge"])
        numbers.append(
            open_case(complaint_opener, "complaint", {"summary": "s", "channel": "email"}).number
        )
        db.session.flush()
        for user, _ in users:
            listed = set(
                db.session.execute(
                    sa.select(Case.number).where(Case.number.in_(numbers), visible_clause(user))
                ).scalars()
            )
            for number in numbers:
                case = db.session.execute(sa.select(Case).where(Case.number == number)).scalar_one()
                level = case_access(user, case, workflow_of(case)).level
                assert (number in listed) == (level is not Level.NONE), (user.roles, number, level)
        db.session.rollback()
