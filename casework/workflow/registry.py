"""The loaded workflows and their state machines: the one piece of state the app keeps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from transitions import EventData, Machine

from casework.workflow.definition import Workflow
from casework.workflow.errors import WorkflowFileError
from casework.workflow.hooks import CONDITIONS, GUARDS, STEPS
from casework.workflow.loader import load_file, parse


def _as_condition(name: str) -> Callable[[EventData], bool]:
    guard = GUARDS[name]

    def check(event: EventData) -> bool:
        firing: Any = event.model
        reason = guard(firing)
        if reason is not None:
            firing.refusal = reason
            return False
        return True

    check.__name__ = f"guard_{name}"
    return check


def _as_soft_condition(name: str) -> Callable[[EventData], bool]:
    cond = CONDITIONS[name]

    def check(event: EventData) -> bool:
        firing: Any = event.model
        return cond(firing)

    check.__name__ = f"condition_{name}"
    return check


def _as_step(name: str) -> Callable[[EventData], None]:
    fn = STEPS[name]

    def run(event: EventData) -> None:
        firing: Any = event.model
        fn(firing)

    run.__name__ = f"step_{name}"
    return run


def build_machine(workflow: Workflow) -> Machine:
    """One `transitions` machine for a workflow version, fired for any number of cases.

    It holds no model: the engine fires an event for one case at a time with
    `machine.events[trigger].trigger(firing)`, so nothing is added to (or leaks from) the machine.
    Guards and steps are the registered functions themselves.
    """
    transitions: list[dict[str, Any]] = []
    for t in workflow.transitions.values():
        transitions.append(
            {
                "trigger": t.trigger,
                "source": list(t.sources),
                "dest": t.dest,
                "prepare": [_as_step(n) for n in t.prepare],
                "conditions": [_as_condition(n) for n in t.guards]
                + [_as_soft_condition(n) for n in t.conditions],
                "after": [_as_step(n) for n in t.effects],
            }
        )
    return Machine(
        model=None,
        states=list(workflow.states),
        transitions=transitions,
        initial=workflow.initial,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
    )


class WorkflowRegistry:
    """Current workflow definitions by key, plus older versions that open cases still use."""

    def __init__(self) -> None:
        self._current: dict[str, Workflow] = {}
        self._by_digest: dict[str, Workflow] = {}
        self._machines: dict[str, Machine] = {}

    def __iter__(self) -> Iterator[Workflow]:
        return iter(self._current.values())

    def __contains__(self, key: object) -> bool:
        return key in self._current

    def keys(self) -> list[str]:
        return list(self._current)

    def get(self, key: str) -> Workflow:
        """The current definition of a workflow; KeyError when there is none."""
        return self._current[key]

    def by_prefix(self, prefix: str) -> Workflow | None:
        return next((w for w in self._current.values() if w.prefix == prefix), None)

    def add(self, workflow: Workflow) -> None:
        self._current[workflow.key] = workflow
        self._remember(workflow)

    def _remember(self, workflow: Workflow) -> None:
        if workflow.digest not in self._by_digest:
            self._by_digest[workflow.digest] = workflow
            self._machines[workflow.digest] = build_machine(workflow)

    def definition(self, digest: str, source_text: Callable[[], str]) -> Workflow:
        """The definition with this digest; parsed from its stored text the first time."""
        found = self._by_digest.get(digest)
        if found is None:
            found = parse(source_text(), Path(f"(stored definition {digest[:12]})"))
            self._remember(found)
        return found

    def machine(self, workflow: Workflow) -> Machine:
        return self._machines[workflow.digest]


def load_registry(folder: Path) -> WorkflowRegistry:
    """Load every `*.toml` file of a folder; raise `WorkflowFileError` on the first bad one."""
    if not folder.is_dir():
        raise WorkflowFileError(str(folder), None, "the workflows folder does not exist")
    registry = WorkflowRegistry()
    prefixes: dict[str, str] = {}
    for path in sorted(folder.glob("*.toml")):
        workflow = load_file(path)
        if path.stem != workflow.key:
            raise WorkflowFileError(
                str(path), workflow.key, f"the file must be named {workflow.key}.toml"
            )
        if workflow.prefix in prefixes:
            raise WorkflowFileError(
                str(path),
                workflow.key,
                f"prefix {workflow.prefix!r} is already used by {prefixes[workflow.prefix]!r}",
            )
        prefixes[workflow.prefix] = workflow.key
        registry.add(workflow)
    if not registry.keys():
        raise WorkflowFileError(str(folder), None, "no workflow files (*.toml) found")
    for workflow in registry:
        check_references(workflow, registry)
    return registry


def check_references(workflow: Workflow, registry: WorkflowRegistry) -> None:
    """Case fields must name a loaded workflow and states it has."""
    every = [("fields", f) for f in workflow.fields] + [
        (f"transitions.{t.trigger}.fields", f)
        for t in workflow.transitions.values()
        for f in t.fields
    ]
    for where, f in every:
        if f.type != "case" or f.workflow is None:
            continue
        if f.workflow not in registry:
            raise WorkflowFileError(
                workflow.source_path,
                workflow.key,
                f"{where}.{f.name}: unknown workflow {f.workflow!r}",
            )
        target = registry.get(f.workflow)
        for state in f.states:
            if state not in target.states:
                raise WorkflowFileError(
                    workflow.source_path,
                    workflow.key,
                    f"{where}.{f.name}: workflow {f.workflow!r} has no state {state!r}",
                )
