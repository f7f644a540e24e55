"""The demo's accounts: users of every role with new passwords and tokens on each run, the people
they are, and (on an empty database) the demo cases."""

from __future__ import annotations

from dataclasses import dataclass

from casework.demo.every_state import seed_every_state
from casework.demo.stories import seed_stories
from casework.services import administration
from casework.services.passwords import generate_password, hash_password
from casework.services.people import create_person
from casework.services.sessions import end_access
from casework.services.tokens import issue_token
from casework.services.users import create_user, find_user

DEMO_DATABASE = "casework-demo.sqlite"

#: username, display name, roles, employee id, branch
DEMO_USERS = [
    ("director", "Dana Whitfield", ["director"], "E1001", "Main Library"),
    ("librarian", "Luis Ortega", ["librarian_in_charge"], "E1002", "Main Library"),
    ("hr", "Harriet Nguyen", ["hr"], "E1003", "Administration"),
    ("social", "Sam Patel", ["social_media_team"], "E1004", "Community Relations"),
    ("social2", "Mei Chen", ["social_media_team"], "E1005", "Community Relations"),
    ("staff", "Terry Brooks", ["staff"], "E1006", "Wheelersburg Branch"),
    ("trustee", "Tom Alvarez", ["trustee"], None, None),
    ("records", "Rosa Jimenez", ["records_officer"], "E1007", "Administration"),
    ("admin", "IT Administrator", ["admin"], None, None),
]
OTHER_PEOPLE = [
    ("Jordan Lee", "E2001", "New Boston Branch"),
    ("Casey Morgan", "E2002", "Lucasville Branch"),
    ("Riley Adams", "E2003", "South Webster Branch"),
    ("Pat Kowalski", "E2004", "Main Library"),
]


@dataclass
class DemoAccount:
    username: str
    role: str
    password: str
    token: str


def seed(by: str | None = None) -> list[DemoAccount]:
    """Create (or refresh) the demo users and, on an empty database, the demo cases.

    Every run gives the demo users new passwords and tokens, printed by `casework demo`; each
    is recorded in the administration trail as done `by` the command line.
    """
    by = by or administration.cli_actor()
    accounts = []
    first_run = find_user("director") is None
    for username, name, roles, employee_id, branch in DEMO_USERS:
        password = generate_password()
        user = find_user(username)
        if user is None:
            user = create_user(
                username,
                roles,
                password=password,
                display_name=name,
                email=f"{username}@library.example",
                by=by,
            )
            if employee_id:
                create_person(name, employee_id, branch or "", username)
        else:
            user.password_hash = hash_password(password)
            user.must_change_password = False
            ended = end_access(user)
            administration.record(by, "password_reset", user, {"demo": True, "tokens_ended": ended})
        accounts.append(DemoAccount(username, roles[0], password, issue_token(user, by=by)))
    if first_run:
        for name, employee_id, branch in OTHER_PEOPLE:
            create_person(name, employee_id, branch)
        seed_stories()
        seed_every_state()
    return accounts
