"""The account workflow's policy: new library social media accounts and their administrators.

Policy, establishment: a branch or department may establish an account only with the approval of
the Library Director and the social media team; continuity: the library keeps access to every
account through an administrator on the social media team or in IT.
"""

from __future__ import annotations

from casework.workflow.hooks import Firing, Watched, condition, guard, step, watch

#: Both of these must approve a new account, as two different people (policy, establishment).
APPROVER_ROLES = ("director", "social_media_team")


def _open_approver_roles(firing: Firing) -> list[str]:
    covered = {a["role"] for a in firing.approvals()}
    return [r for r in APPROVER_ROLES if r in firing.roles and r not in covered]


@guard("distinct_approver")
def distinct_approver(firing: Firing) -> str | None:
    """Each approval comes from a different person, in a role that has not yet approved.

    Two accounts of one person (the same e-mail address or full name) are one approver.
    """
    previous = firing.approvals()
    if any(a["user"] == firing.actor for a in previous):
        return "You have already approved this request; a second person must approve it."
    for earlier in previous:
        if firing.same_person(earlier["user"], firing.actor):
            return (
                f"This request was already approved by {earlier['user']}, an account of the "
                "same person as yours (the same e-mail address or name); a second person must "
                "approve it."
            )
    if not _open_approver_roles(firing):
        done = ", ".join(f"{a['user']} ({a['role'].replace('_', ' ')})" for a in previous)
        return f"This request already has the approval your role can give ({done})."
    return None


@step("record_approval")
def record_approval(firing: Firing) -> None:
    open_roles = _open_approver_roles(firing)
    if open_roles:
        firing.event_data["approved_as"] = open_roles[0]


@condition("both_approvals")
def both_approvals(firing: Firing) -> bool:
    """True once a director and a social media team member, two people, have approved."""
    approvals = firing.approvals()
    new_role = firing.event_data.get("approved_as")
    if new_role:
        approvals = approvals + [{"user": firing.actor, "role": new_role}]
    roles = {a["role"] for a in approvals}
    people = {a["user"] for a in approvals}
    complete = all(r in roles for r in APPROVER_ROLES) and len(people) >= 2
    if not complete:
        waiting = [r for r in APPROVER_ROLES if r not in roles]
        firing.event_data["waiting_for"] = waiting
    return complete


#: Roles that give continuity of access when one of an account's administrators holds them.
CONTINUITY_ROLES = frozenset({"social_media_team", "admin"})


@guard("continuity_admin")
def continuity_admin(firing: Firing) -> str | None:
    """At least one administrator is on the social media team or in IT (policy, continuity)."""
    names = list(firing.case_fields.get("administrators") or [])
    roles = firing.roles_of(names)
    if any(held & CONTINUITY_ROLES for held in roles.values()):
        return None
    return (
        "No administrator of this account is on the social media team or in IT. Add one "
        "(the administrators field) so the library keeps access to the account."
    )


@watch("administrators_in_place")
def administrators_in_place(case: Watched) -> str | None:
    """Someone on staff can still reach the account, and one of them is on the social media team
    or in IT (policy: continuity of access)."""
    names = [str(n) for n in case.fields.get("administrators") or ()]
    standing = case.standing(names)
    gone = [n for n in names if n not in standing or not standing[n].active]
    left = [n for n in names if n in standing and standing[n].separated]
    present = [n for n in names if n not in gone and n not in left]
    problems = []
    if gone:
        problems.append(f"disabled or unknown: {', '.join(gone)}")
    if left:
        problems.append(f"left the library: {', '.join(left)}")
    if not any(standing[n].roles & CONTINUITY_ROLES for n in present):
        problems.append("no administrator on the social media team or in IT")
    return "; ".join(problems) or None
