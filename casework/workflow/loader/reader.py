"""Reading typed values from the tables of a workflow file; each error names file, key and place."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from casework.workflow.errors import WorkflowFileError
from casework.workflow.roles import ROLES

#: Keys, states, fields and triggers: lower-case letters, digits and underscores.
NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class Reader:
    """Carries the file and key being read so every error names both."""

    def __init__(self, path: Path, key: str | None) -> None:
        self.path = path
        self.key = key

    def fail(self, where: str, reason: str) -> WorkflowFileError:
        return WorkflowFileError(
            str(self.path), self.key, f"{where}: {reason}" if where else reason
        )

    def table(self, data: Any, where: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(where, "must be a table")
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise self.fail(where, f"unknown key {unknown[0]!r}")
        return data

    def string(
        self, data: dict[str, Any], name: str, where: str, default: str | None = None
    ) -> str:
        value = data.get(name, default)
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise self.fail(where, f"{name!r} must be a non-empty string")
        return value

    def flag(self, data: dict[str, Any], name: str, where: str) -> bool:
        value = data.get(name, False)
        if not isinstance(value, bool):
            raise self.fail(where, f"{name!r} must be true or false")
        return value

    def names(self, data: dict[str, Any], name: str, where: str) -> tuple[str, ...]:
        value = data.get(name, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(where, f"{name!r} must be a string or a list of strings")
        return tuple(value)

    def roles(self, data: dict[str, Any], name: str, where: str) -> tuple[str, ...]:
        roles = self.names(data, name, where)
        for role in roles:
            if role not in ROLES:
                raise self.fail(where, f"unknown role {role!r} in {name!r}")
        return roles

    def some_roles(self, data: dict[str, Any], name: str, where: str) -> tuple[str, ...]:
        """`roles`, refusing an empty list."""
        roles = self.roles(data, name, where)
        if not roles:
            raise self.fail(where, f"{name!r} names at least one role")
        return roles

    def entries(self, data: Any, where: str) -> list[Any]:
        """An array of tables (`[[where]]`); none given: an empty list."""
        if data is None:
            return []
        if not isinstance(data, list):
            raise self.fail(where, f"must be an array of tables ([[{where}]])")
        return data

    def state(self, data: dict[str, Any], name: str, where: str, states: Any) -> str:
        """A string that must be a state of the workflow."""
        state = self.string(data, name, where)
        if state not in states:
            raise self.fail(where, f"unknown state {state!r}")
        return state

    def states(self, data: dict[str, Any], name: str, where: str, states: Any) -> tuple[str, ...]:
        """`names` that must each be a state of the workflow."""
        named = self.names(data, name, where)
        for state in named:
            if state not in states:
                raise self.fail(where, f"unknown state {state!r}")
        return named
