"""The roles a user can hold, their names in words, and the `staff` role the others imply."""

from __future__ import annotations

#: Every role a user can hold. `staff` is implied by any role but `admin` and `system`.
ROLES: tuple[str, ...] = (
    "staff",
    "librarian_in_charge",
    "director",
    "hr",
    "social_media_team",
    "trustee",
    "records_officer",
    "admin",
    "system",
)

#: Roles that do not make their holder a member of staff.
NON_STAFF_ROLES = frozenset({"admin", "system"})

ROLE_LABELS: dict[str, str] = {
    "staff": "Staff",
    "librarian_in_charge": "Librarian in Charge",
    "director": "Library Director",
    "hr": "Human Resources",
    "social_media_team": "Social media team",
    "trustee": "Board of Trustees",
    "records_officer": "Records officer",
    "admin": "Administrator (IT)",
    "system": "Casework (automatic)",
}


def effective_roles(roles: frozenset[str] | set[str] | tuple[str, ...]) -> frozenset[str]:
    """A user's roles plus the implied `staff` role for anyone who is not only IT or the system."""
    held = frozenset(roles)
    if held - NON_STAFF_ROLES:
        return held | {"staff"}
    return held
