"""The parts of a workflow definition, as loaded from a file in `workflows/`, and their plain-data
form (what the API, the CLI and the pages show of a definition)."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FIELD_TYPES = frozenset(
    {
        "text",  # one line
        "textarea",  # several lines
        "choice",
        "multichoice",
        "yesno",
        "date",
        "datetime",
        "url",
        "person",  # id of a person (an employee)
        "case",  # number of another case
        "usernames",  # list of user names
        "branch",  # one of the library's configured branches and departments
    }
)


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    #: The policy text this choice comes from, shown beside it (violation categories).
    clause: str | None = None


#: Field types picked from a list rather than typed ("Choose …" when one is missing).
CHOSEN_TYPES = frozenset({"choice", "multichoice", "yesno", "person", "branch"})


@dataclass(frozen=True)
class FieldDef:
    name: str
    label: str
    type: str
    required: bool = False
    choices: tuple[Choice, ...] = ()
    #: Redacted from public-records copies.
    confidential: bool = False
    #: Why a confidential value is withheld, printed in its place.
    withheld_reason: str = "confidential"
    help: str = ""
    max_length: int | None = None
    #: For `case` fields: the workflow the referenced case belongs to, and its allowed states.
    workflow: str | None = None
    states: tuple[str, ...] = ()
    #: This field may only be given when another field has one of these values.
    only_when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: This field is asked for only when another field has one of these values (a complaint's
    #: channel); otherwise any value given is ignored and not stored.
    shown_when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: For transition fields: the value replaces the case's intake field of the same name.
    updates_case: bool = False
    #: Required in the web's intake form though the API takes it as optional (an API client may
    #: not know it, a member of staff at the form does).
    required_in_form: bool = False
    #: What to do when a required field is left empty ("Enter a summary of the complaint");
    #: by default "Enter …" or "Choose …" and the label.
    required_message: str = ""

    @property
    def missing(self) -> str:
        if self.required_message:
            return self.required_message
        label = self.label
        if label[1:2].islower():
            label = label[:1].lower() + label[1:]
        verb = "Choose" if self.type in CHOSEN_TYPES else "Enter"
        return f"{verb} {label}."

    def choice_label(self, value: str) -> str:
        for choice in self.choices:
            if choice.value == value:
                return choice.label
        return value

    def choice(self, value: str) -> Choice | None:
        return next((c for c in self.choices if c.value == value), None)


@dataclass(frozen=True)
class Deadline:
    """A state that must be left within a number of business days (or calendar days) of entering
    it, or of the transition that restarts its clock."""

    #: Exactly one of these is more than 0.
    business_days: int
    #: The transition that is expected before the deadline (used in wording).
    expects: str
    #: The transition `casework sweep` fires, as the system user, once the deadline has passed.
    on_overdue: str | None = None
    #: Field values the sweep gives that transition.
    overdue_fields: Mapping[str, Any] = field(default_factory=dict)
    days: int = 0

    @property
    def period(self) -> str:
        """The time allowed, in words: "2 business days", "365 days"."""
        if self.days:
            return f"{self.days} day{'s' if self.days != 1 else ''}"
        n = self.business_days
        return f"{n} business day{'s' if n != 1 else ''}"


@dataclass(frozen=True)
class StateDef:
    name: str
    label: str
    terminal: bool = False
    description: str = ""
    deadline: Deadline | None = None


@dataclass(frozen=True)
class TransitionDef:
    trigger: str
    label: str
    sources: tuple[str, ...]
    dest: str
    roles: tuple[str, ...]
    #: Narrower role lists for particular source states.
    roles_by_source: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    fields: tuple[FieldDef, ...] = ()
    #: Named checks that refuse the transition with a reason.
    guards: tuple[str, ...] = ()
    #: Named checks that, when false, record the request but leave the case where it is.
    conditions: tuple[str, ...] = ()
    #: Named steps run before the checks (they may add facts to the audit event).
    prepare: tuple[str, ...] = ()
    #: Named steps run after the state has changed, in the same transaction.
    effects: tuple[str, ...] = ()
    description: str = ""
    #: A transition back into the same state that starts its deadline again (a yearly review).
    restarts_deadline: bool = False
    #: The change is made only after a "check your answers" page (a decision on a person).
    confirm: bool = False
    #: Not offered at all while a guard refuses it (it would be the wrong step, not a later one);
    #: firing it is still refused with the guard's reason.
    hide_when_refused: bool = False
    #: A note the form shows above its fields: the ground the decision must stand on.
    notice: str = ""
    #: What the user must still do outside Casework, shown on the form and once it is done.
    reminder: str = ""
    #: The evidence file the web form asks for with it (its label), attached in the same
    #: transaction; "" when it asks for none.
    evidence: str = ""
    #: The hint beside the evidence file.
    evidence_help: str = ""

    def roles_from(self, source: str) -> tuple[str, ...]:
        return self.roles_by_source.get(source, self.roles)

    def field(self, name: str) -> FieldDef | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class Access:
    """Who may see cases of a workflow."""

    #: Roles that see whole cases.
    readers: tuple[str, ...]
    #: Roles that may open a case.
    intake: tuple[str, ...]
    #: Confidential workflows: only readers see them; everyone else gets "not found".
    confidential: bool = False
    #: In a confidential workflow, the reporter sees a receipt (number, date, state) only.
    reporter_receipt: bool = False
    #: The `person` field naming the subject, who never sees or acts on the case.
    subject_field: str | None = None
    #: When the subject holds the key role, holders of the value role act in its place.
    stand_in: Mapping[str, str] = field(default_factory=dict)
    #: Views, prints and exports of a case are recorded in its audit trail.
    record_views: bool = False
    #: Whoever opened a case sees it in full, whatever their roles (a non-confidential workflow
    #: whose readers are a few roles, such as patron complaints).
    reporter_reads: bool = False
    #: Why a public-records copy of a confidential case withholds its free text and the names
    #: of staff, with the legal authority, e.g. "personnel record — R.C. 149.43(A)(1)".
    withheld_reason: str = "confidential"


@dataclass(frozen=True)
class QueueDef:
    """A list of cases waiting in one state, on the home page of the roles it names."""

    title: str
    roles: tuple[str, ...]
    state: str
    #: The list's order (one of the case list's sorts).
    sort: str = "created_at"
    #: What the queue says when nothing waits.
    empty: str = "Nothing waiting."
    #: Only the cases a watch flags (its key), or only the overdue ones.
    watch: str | None = None
    overdue_only: bool = False


@dataclass(frozen=True)
class WatchDef:
    """A named check on every case in a state; a case it flags shows the label wherever it is
    listed, and the sweep tells the roles once each time the flag is raised."""

    key: str
    label: str
    state: str
    check: str
    roles: tuple[str, ...]

    @property
    def notification(self) -> NotificationDef:
        """The e-mail the sweep sends when a case is flagged."""
        return NotificationDef(
            self.key,
            f"A case is flagged: {self.label.lower()}",
            "{number}: " + self.label.lower(),
            "flagged",
            self.roles,
        )


@dataclass(frozen=True)
class NotificationDef:
    """A kind of e-mail: reaching one of `states`, or taking one of `triggers` (a step that may
    keep the case where it is), tells the holders of `roles` on the case.

    Each user can turn each kind off; confidential cases always get the same neutral text.
    """

    key: str
    #: How the preferences page names it.
    label: str
    #: The subject line; `{number}` is the case number.
    subject: str
    #: The templates `mail/<template>.txt` and `mail/<template>.html`.
    template: str
    roles: tuple[str, ...]
    states: tuple[str, ...] = ()
    triggers: tuple[str, ...] = ()


@dataclass(frozen=True)
class FigureDef:
    """A dashboard figure: the median time from receiving a case to its first step into a state.

    Time counts from when the library received the case (its received field, else its opening).
    """

    label: str
    #: The step's source state; None: any.
    from_state: str | None
    #: The states the step reaches (the first of them reached counts).
    to_states: tuple[str, ...]
    #: Shown while no case has made the step.
    empty: str = "None yet"


#: What starts a retention period: the case reaching an end state, or the subject's separation.
RETENTION_STARTS = {
    "closed": "after the case is closed",
    "separation": "after the subject's separation",
}


@dataclass(frozen=True)
class RetentionRule:
    """How long the library's retention schedule keeps a record series, and what starts it."""

    series: str
    schedule: str
    #: Whole years; 0 with `permanent`.
    years: int = 0
    #: A key of `RETENTION_STARTS`; "" with `permanent`.
    after: str = ""
    permanent: bool = False

    @property
    def period(self) -> str:
        """The period in words: "5 years after the case is closed", "permanent"."""
        if self.permanent:
            return "permanent"
        return f"{self.years} year{'s' if self.years != 1 else ''} {RETENTION_STARTS[self.after]}"

    def describe(self) -> dict[str, Any]:
        return {
            "series": self.series,
            "schedule": self.schedule,
            "years": self.years or None,
            "after": self.after or None,
            "permanent": self.permanent,
            "period": self.period,
        }


@dataclass(frozen=True)
class Retention:
    """A workflow's retention rule, and the rules of end states that differ from it."""

    rule: RetentionRule
    by_state: Mapping[str, RetentionRule] = field(default_factory=dict)

    def for_state(self, state: str) -> RetentionRule:
        return self.by_state.get(state, self.rule)

    @property
    def series(self) -> tuple[RetentionRule, ...]:
        """Every distinct rule, the workflow's own first."""
        seen: list[RetentionRule] = [self.rule]
        for rule in self.by_state.values():
            if rule not in seen:
                seen.append(rule)
        return tuple(seen)


@dataclass(frozen=True)
class Workflow:
    key: str
    version: int
    prefix: str
    title: str
    description: str
    policy: str
    initial: str
    access: Access
    fields: tuple[FieldDef, ...]
    states: Mapping[str, StateDef]
    transitions: Mapping[str, TransitionDef]
    #: The intake field shown as the case's title in lists.
    title_field: str
    source_path: str
    source_text: str
    #: SHA-256 of the file's text: the definition's identity in the database.
    digest: str
    #: Labels the whole record carries when printed (e.g. a confidentiality marking).
    marking: str = ""
    #: The intake `datetime` field whose value is when the library received the case: the first
    #: deadline counts from it (None: from when the case was opened).
    received_field: str | None = None
    #: Queues on the home pages, e-mail notifications, and dashboard figures.
    queues: tuple[QueueDef, ...] = ()
    notifications: tuple[NotificationDef, ...] = ()
    figures: tuple[FigureDef, ...] = ()
    watches: tuple[WatchDef, ...] = ()
    #: Intake fields an e-mail about a case may show (never confidential ones).
    mail_fields: tuple[str, ...] = ()
    #: How long its cases are kept (None: the file gives no rule, so they are kept for good).
    retention: Retention | None = None
    #: States in which a case's readers may release packets of public-records copies from it.
    release_states: tuple[str, ...] = ()
    #: What every action form shows of the case it acts on: intake fields by name, and the
    #: latest value given to a transition's field as "trigger.field" (findings so far).
    summary_fields: tuple[str, ...] = ()
    #: A new case is opened only after a "check your answers" page (a staff report).
    confirm_intake: bool = False
    #: Whoever opens a case may send evidence files with it (on the last page of the intake).
    intake_evidence: bool = False

    def field(self, name: str) -> FieldDef | None:
        return next((f for f in self.fields if f.name == name), None)

    def notification_on(self, state: str) -> NotificationDef | None:
        """The e-mail that reaching `state` sends, if any."""
        return next((n for n in self.notifications if state in n.states), None)

    def notification_after(self, trigger: str) -> NotificationDef | None:
        """The e-mail that taking the step `trigger` sends, wherever it leaves the case."""
        return next((n for n in self.notifications if trigger in n.triggers), None)

    def transitions_from(self, state: str) -> list[TransitionDef]:
        return [t for t in self.transitions.values() if state in t.sources]

    def path_to(self, state: str) -> list[tuple[TransitionDef, str]]:
        """The shortest list of (transition, source state) from the initial state to `state`
        (empty for the initial state; the loader has checked that every state is reachable)."""
        previous: dict[str, tuple[TransitionDef, str] | None] = {self.initial: None}
        queue = deque([self.initial])
        while queue:
            here = queue.popleft()
            for t in self.transitions_from(here):
                if t.dest not in previous:
                    previous[t.dest] = (t, here)
                    queue.append(t.dest)
        steps: list[tuple[TransitionDef, str]] = []
        cursor = state
        while (step := previous.get(cursor)) is not None:
            steps.append(step)
            cursor = step[1]
        return list(reversed(steps))

    @property
    def terminal_states(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states.values() if s.terminal)

    def describe(self) -> dict[str, Any]:
        """The definition as plain data (API, CLI and UI all show this)."""
        return {
            "key": self.key,
            "version": self.version,
            "prefix": self.prefix,
            "title": self.title,
            "description": self.description,
            "policy": self.policy,
            "confidential": self.access.confidential,
            "initial": self.initial,
            "intake_roles": list(self.access.intake),
            "retention": (
                {
                    **self.retention.rule.describe(),
                    "by_state": {
                        state: rule.describe() for state, rule in self.retention.by_state.items()
                    },
                }
                if self.retention
                else None
            ),
            "fields": [describe_field(f) for f in self.fields],
            "states": [
                {
                    "name": s.name,
                    "label": s.label,
                    "terminal": s.terminal,
                    "description": s.description,
                    "deadline": (
                        {
                            "business_days": s.deadline.business_days or None,
                            "days": s.deadline.days or None,
                            "expects": s.deadline.expects,
                            "on_overdue": s.deadline.on_overdue,
                        }
                        if s.deadline
                        else None
                    ),
                }
                for s in self.states.values()
            ],
            "transitions": [
                {
                    "trigger": t.trigger,
                    "label": t.label,
                    "sources": list(t.sources),
                    "dest": t.dest,
                    "roles": list(t.roles),
                    "roles_by_source": {k: list(v) for k, v in t.roles_by_source.items()},
                    "guards": list(t.guards),
                    "conditions": list(t.conditions),
                    "description": t.description,
                    "fields": [describe_field(f) for f in t.fields],
                }
                for t in self.transitions.values()
            ],
        }


def describe_field(f: FieldDef) -> dict[str, Any]:
    """A field definition as plain data, as the API's `available_transitions` shows it."""
    return {
        "name": f.name,
        "label": f.label,
        "type": f.type,
        "required": f.required,
        "choices": [c.value for c in f.choices] or None,
        "choice_labels": {c.value: c.label for c in f.choices} or None,
        "confidential": f.confidential,
        "help": f.help or None,
        "shown_when": {k: list(v) for k, v in f.shown_when.items()} or None,
    }
