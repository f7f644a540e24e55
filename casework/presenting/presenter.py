"""The one presenter: a field value or an audit event as display items, redacted or not.

Pages, printed records and e-mail only style what it makes. A public-records copy is made here,
not in a template: every value whose field is marked `confidential` in the workflow file is
replaced by "[withheld: reason]" in the items themselves, as are the free texts no workflow file
classifies (notes, evidence file names) and any field the definition does not know.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from casework.models import HOLD_KINDS, Event
from casework.presenting.people import StaffMember
from casework.presenting.values import value_text
from casework.presenting.words import (
    ACCESS_ACTIONS,
    file_size,
    humanize,
    reads_line,
    role_label,
    stored_time,
)
from casework.workflow import Workflow
from casework.workflow.definition import FieldDef

#: Why free texts no workflow file classifies are left out of a public-records copy.
UNREVIEWED = "free text, not reviewed for release"

#: Field types whose values are free text or name someone: a public-records copy of a
#: confidential case withholds every one of them, whether or not the field is marked.
NAMING_TYPES = frozenset({"text", "textarea", "url", "person", "usernames"})

#: The exception for library patron records, when no workflow file names one.
PATRON_RECORD = "patron record, Ohio R.C. 149.432"


def withheld(reason: str) -> str:
    """The visible mark that replaces a withheld value."""
    return f"[withheld: {reason}]"


@dataclass(frozen=True)
class Part:
    """A piece of a value cut for release: text, or (with `authority`) a withheld passage, of
    which only the authority is kept."""

    text: str
    authority: str = ""


@dataclass(frozen=True)
class Item:
    """One labelled value, as every medium shows it (an empty label: a line of its own)."""

    label: str
    value: str
    #: The value was replaced by a withheld mark.
    withheld: bool = False
    #: Print in the fixed-width face (hashes).
    code: bool = False
    #: For a value with passages withheld from a release packet: its pieces (`value` then holds
    #: the same with each passage as its withheld mark).
    parts: tuple[Part, ...] = ()
    #: The number of a case the value names, and a web address it is: pages link them.
    case: str = ""
    url: str = ""
    #: Several lines of free text (pages keep its line breaks).
    multiline: bool = False


def patron_reason() -> str:
    """Why a post's author is withheld: the reason the workflow files give for it (the
    `author` field), else the patron-records exception itself."""
    from casework.library import library

    for workflow in library().workflows:
        f = workflow.field("author")
        if f is not None and f.confidential:
            return f.withheld_reason
    return PATRON_RECORD


class Presenter:
    """Turns stored values and events into display items, and withholds what a public copy may
    not show."""

    def __init__(
        self,
        tz: ZoneInfo,
        people: Mapping[int, str],
        redacted: bool,
        case_reason: str | None = None,
        staff: Mapping[str, StaffMember] | None = None,
        reviewed: bool = False,
    ) -> None:
        self.tz = tz
        #: The employees person fields name, as `employee_label` names them.
        self.people = people
        self.redacted = redacted
        #: For a public-records copy of a confidential case: why its free text and the names of
        #: staff are withheld (the workflow's reason and authority); None otherwise.
        self.case_reason = case_reason if redacted else None
        #: The members of staff named, by user name.
        self.members = staff or {}
        #: Notes reviewed for release (a release packet): shown, not withheld whole.
        self.reviewed = reviewed

    # --- values ---------------------------------------------------------------------------------

    def text(self, f: FieldDef | None, value: Any) -> str:
        return value_text(f, value, self.people)

    def item(self, f: FieldDef | None, name: str, value: Any) -> Item:
        label = f.label if f is not None else humanize(name)
        if self.redacted and (f is None or f.confidential):
            reason = f.withheld_reason if f is not None else "not in the workflow definition"
            return Item(label, withheld(reason), withheld=True)
        if self.case_reason is not None and f is not None and f.type in NAMING_TYPES:
            return Item(label, withheld(self.case_reason), withheld=True)
        text = self.text(f, value)
        kind = f.type if f is not None else ""
        return Item(
            label,
            text,
            case=text if kind == "case" else "",
            url=text if kind == "url" else "",
            multiline=kind == "textarea",
        )

    def fields(self, defs: Sequence[FieldDef], values: Mapping[str, Any]) -> list[Item]:
        """Values in the order the workflow file declares them; unknown names last."""
        known = {f.name for f in defs}
        out = [self.item(f, f.name, values[f.name]) for f in defs if f.name in values]
        out += [self.item(None, k, v) for k, v in sorted(values.items()) if k not in known]
        return out

    def free_text(self, label: str, value: Any) -> Item:
        if self.redacted:
            return Item(label, withheld(self.case_reason or UNREVIEWED), withheld=True)
        return Item(label, str(value), multiline=True)

    def staff(self, name: Any, allowed: Iterable[str] = ()) -> str:
        """A member of staff by full name and role (the one of `allowed` they acted in), or its
        withheld mark in a public-records copy of a confidential case (which names no member of
        staff)."""
        if self.case_reason is not None:
            return withheld(self.case_reason)
        member = self.members.get(str(name))
        return member.titled(allowed) if member else str(name)

    def patron(self, label: str, value: Any, reason: str) -> Item:
        """A value that names a member of the public (a post's author), withheld from every
        public-records copy for `reason`."""
        if self.redacted:
            return Item(label, withheld(reason), withheld=True)
        return Item(label, str(value))

    # --- events ---------------------------------------------------------------------------------

    def actor(self, workflow: Workflow, e: Event, data: Mapping[str, Any]) -> str:
        """Who did `e`, by name and the role the step took."""
        allowed: list[str] = []
        if e.action == "transition":
            if data.get("approved_as"):
                allowed.append(str(data["approved_as"]))
            transition = workflow.transitions.get(str(data.get("trigger", "")))
            if transition is not None:
                allowed += transition.roles_from(e.from_state or "")
        return self.staff(e.actor, allowed)

    def reads(self, run: Sequence[Event]) -> str:
        """A run of reads in one line: "Viewed 5 times by …; printed once by …"."""
        return reads_line((self.access(e.action, {})[0], self.staff(e.actor)) for e in run)

    def event(
        self, workflow: Workflow, e: Event, data: Mapping[str, Any]
    ) -> tuple[str, list[Item]]:
        """What `e` did, in words, and its details; `data` is the event's data as the reader may
        see it (numbers of cases they may not see masked)."""
        action = e.action
        if action == "created":
            details = self.fields(workflow.fields, data.get("fields") or {})
            if data.get("referred_from"):
                number = str(data["referred_from"])
                details.append(Item("Referred from", number, case=number))
            if data.get("assignee"):
                details.append(Item("Assigned to", self.staff(data["assignee"])))
            return "Case opened", details
        if action == "transition":
            return self.transition(workflow, data)
        if action == "note":
            if self.reviewed and self.case_reason is None:
                return "Note", [Item("", str(data.get("text", "")), multiline=True)]
            return "Note", [self.free_text("", data.get("text", ""))]
        if action == "attachment":
            name = self.free_text("File", data.get("name", ""))
            size = file_size(data.get("size"))
            return "Evidence attached", [name, Item("", f"{size} (see Evidence)")]
        if action == "assign":
            before = self.staff(data["from"]) if data.get("from") else "nobody"
            after = self.staff(data["to"]) if data.get("to") else "nobody"
            return "Assigned", [Item("", f"{before} → {after}")]
        if action == "link":
            number = str(data.get("case", ""))
            return "Linked", [Item("Case", number, case=number)]
        if action == "denied_access":
            decided = str(data.get("moderation", ""))
            return "Author denied access", [
                self.patron("Author", data.get("author", ""), patron_reason()),
                self.free_text("Reason", data.get("reason", "")),
                Item("Decided in", decided, case=decided),
                Item("Until", self.until(data.get("until"))),
            ]
        if action == "access_restored":
            decided = str(data.get("by_case", ""))
            return "Author's access restored", [
                self.patron("Author", data.get("author", ""), patron_reason()),
                self.free_text("Reason", data.get("reason", "")),
                Item("Decided in", decided, case=decided),
            ]
        if action in ("hold", "hold_lifted"):
            kind = HOLD_KINDS.get(str(data.get("kind")), str(data.get("kind", "")))
            what = "Legal hold placed" if action == "hold" else "Legal hold lifted"
            return what, [Item("Why", kind), self.free_text("Reason", data.get("reason", ""))]
        if action in ACCESS_ACTIONS:
            return self.access(action, data)
        return humanize(action), self.generic(data)

    def until(self, value: Any) -> str:
        if not value:
            return "permanent"
        return stored_time(str(value), self.tz) if "T" in str(value) else str(value)

    def transition(self, workflow: Workflow, data: Mapping[str, Any]) -> tuple[str, list[Item]]:
        trigger = str(data.get("trigger", ""))
        t = workflow.transitions.get(trigger)
        details = self.fields(t.fields if t else (), data.get("fields") or {})
        if data.get("approved_as"):
            details.append(Item("Approved as", role_label(data["approved_as"])))
        if data.get("waiting_for"):
            waiting = ", ".join(role_label(r) for r in data["waiting_for"])
            details.append(Item("Waiting for", waiting))
        if data.get("opened"):
            number = str(data["opened"])
            details.append(Item("Opened", number, case=number))
        denied = data.get("denied")
        if isinstance(denied, dict):
            if self.redacted:
                details.append(self.patron("Denied access", "", patron_reason()))
            else:
                details.append(
                    Item("Denied access", f"{denied.get('author')} on {denied.get('account')}")
                )
        if data.get("already_denied"):
            details.append(Item("", "Already on the account's denied list."))
        restored = data.get("restored")
        if isinstance(restored, dict) and not restored.get("lifted"):
            details.append(Item("", "No denial was in force; nothing was lifted."))
        return (t.label if t else humanize(trigger)), details

    def access(self, action: str, data: Mapping[str, Any]) -> tuple[str, list[Item]]:
        if action == "print":
            head = data.get("chain_head") or {}
            document = humanize(str(data.get("document", "record")))
            copy = "public-records copy" if data.get("redacted") else "full copy"
            return "Printed", [
                Item("", f"{document}, {copy}, through event {head.get('seq', '?')}")
            ]
        if action == "download":
            return "Evidence downloaded", [self.free_text("File", data.get("name", ""))]
        if action == "export":
            return "Exported", self.generic(data)
        return "Viewed", self.generic(data)

    def generic(self, data: Mapping[str, Any]) -> list[Item]:
        out = []
        for key, value in sorted(data.items()):
            if isinstance(value, str) and value.endswith("Z") and value[:4].isdigit():
                value = stored_time(value, self.tz)
            elif self.case_reason is not None and not isinstance(value, bool | int):
                out.append(Item(humanize(key), withheld(self.case_reason), withheld=True))
                continue
            out.append(Item(humanize(key), self.text(None, value)))
        return out


def person_ids(workflow: Workflow, datas: Iterable[Mapping[str, Any]]) -> set[int]:
    """The ids of the employees the person fields of these events' data name."""
    names = {f.name for f in workflow.fields if f.type == "person"}
    for t in workflow.transitions.values():
        names |= {f.name for f in t.fields if f.type == "person"}
    found = set()
    for data in datas:
        for name, value in (data.get("fields") or {}).items():
            if name in names and isinstance(value, int) and not isinstance(value, bool):
                found.add(value)
    return found
