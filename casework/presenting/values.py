"""A field's stored value in the library's words: choice labels, Yes/No, names, local times."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from casework.presenting.words import stored_date, stored_time
from casework.workflow.definition import FieldDef

NO_PEOPLE: Mapping[int, str] = {}


def employee_label(name: str, employee_id: str, branch: str = "") -> str:
    """An employee as a case names them: "Olive Outsider (employee E-olive, Lucasville Branch)"."""
    extra = ", ".join(p for p in (f"employee {employee_id}" if employee_id else "", branch) if p)
    return f"{name} ({extra})" if extra else name


def value_text(f: FieldDef | None, value: Any, people: Mapping[int, str] = NO_PEOPLE) -> str:
    """The words for `value` of field `f` (None: a field the definition does not know); `people`
    names the employees person fields refer to (`employee_label`)."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, list):
        return ", ".join(value_text(f, v, people) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if f is None:
        return str(value)
    if f.type == "yesno":
        return {"yes": "Yes", "no": "No", True: "Yes", False: "No"}.get(value, str(value))
    if f.choices:
        return f.choice_label(str(value))
    if f.type == "datetime":
        return stored_time(str(value))
    if f.type == "date":
        return stored_date(str(value))
    if f.type == "person" and isinstance(value, int) and not isinstance(value, bool):
        return people.get(value, f"person {value}")
    return str(value)
