"""Printed records as PDF: a case's record, an employee's case history, the account registry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, request

from casework.api.blueprint import bp
from casework.api.views import user
from casework.errors import InvalidFields
from casework.http.downloads import file_response
from casework.printing import history, record, registry
from casework.printing.documents import Printed

#: Accepted spellings of the `redacted` query parameter.
FLAGS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False, "": False}


def pdf_response(printed: Printed, *, download: bool = False) -> Response:
    """The document as a PDF: inline, or as a download (the answer to a print button's form)."""
    return file_response(printed.content, "application/pdf", printed.filename, download=download)


def flag(values: Mapping[str, Any], name: str) -> bool:
    """A yes/no parameter (`InvalidFields` when it is neither)."""
    raw = values.get(name, "")
    value = raw.strip().lower() if isinstance(raw, str) else "?"
    if value not in FLAGS:
        raise InvalidFields({name: ["Must be 1 (a public-records copy) or 0."]})
    return FLAGS[value]


def redacted_flag() -> bool:
    return flag(request.args, "redacted")


@bp.get("/cases/<number>/record.pdf")
def case_record_pdf(number: str) -> Response:
    actor = user()
    return pdf_response(record.case_record_pdf(actor, number, redacted=redacted_flag()))


@bp.get("/people/<int:person_id>/history.pdf")
def employee_history_pdf(person_id: int) -> Response:
    actor = user()
    return pdf_response(history.employee_history_pdf(actor, person_id))


@bp.get("/registry.pdf")
def account_registry_pdf() -> Response:
    actor = user()
    return pdf_response(registry.account_registry_pdf(actor))
