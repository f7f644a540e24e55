"""Who is told what: the kinds of e-mail notification.

Each workflow file declares its own kinds (`[[notifications]]`: which states reaching sends which
e-mail to which roles); the engine adds one kind of its own, the overdue notice the sweep sends.
"""

from __future__ import annotations

from casework.library import library
from casework.workflow.definition import NotificationDef

#: A kind of notification; each user can turn each kind off.
Kind = NotificationDef

OVERDUE = "overdue"

#: The sweep's notice; it picks the assignee, else whoever may fire the expected transition.
OVERDUE_KIND = Kind(
    OVERDUE,
    "A case assigned to you (or, unassigned, awaiting you) is overdue",
    "{number} is overdue",
    "overdue",
    (),
)


def kinds() -> dict[str, Kind]:
    """Every kind of notification the loaded workflows declare, and the overdue notice."""
    found = {OVERDUE: OVERDUE_KIND}
    for workflow in library().workflows:
        for kind in workflow.notifications:
            found.setdefault(kind.key, kind)
        for watch in workflow.watches:
            found.setdefault(watch.key, watch.notification)
    return found
