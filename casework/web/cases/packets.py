"""The release-packet page of a records request: choose cases and passages, preview, release."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import TextAreaField

from casework.errors import InvalidFields
from casework.printing import packet
from casework.web import Page
from casework.web.actor import actor
from casework.web.cases.blueprint import bp

#: Empty withholding rows the form offers below those filled in.
SPARE_ROWS = 3


class PacketForm(FlaskForm):
    cases = TextAreaField(
        "Cases to release",
        description="Case numbers, one a line (for example CMP-2026-0042). Each is released as "
        "its public-records copy; only cases you may read in full can be named.",
    )


def _rows() -> list[dict[str, str]]:
    """The withholding rows as sent: w-N-case, w-N-passage, w-N-authority."""
    rows = []
    for i in range(packet.MOST_WITHHOLDINGS):
        if f"w-{i}-passage" not in request.form:
            break
        rows.append(
            {
                "case": request.form.get(f"w-{i}-case", ""),
                "passage": request.form.get(f"w-{i}-passage", ""),
                "authority": request.form.get(f"w-{i}-authority", ""),
            }
        )
    return rows


def _asked(form: PacketForm, rows: list[dict[str, str]]) -> tuple[dict[str, Any], list[int]]:
    """The request as the service takes it, and the row each withholding came from."""
    numbers = [n for n in (form.cases.data or "").replace(",", "\n").split() if n]
    used = [i for i, r in enumerate(rows) if r["passage"].strip() or r["case"].strip()]
    data = {"cases": numbers, "withholdings": [rows[i] for i in used]}
    return data, used


def _errors(exc: InvalidFields, used: list[int]) -> tuple[dict[str, list[str]], list[Any]]:
    """The refusal's messages by the page's field ids, and the error summary's lines."""
    by_id: dict[str, list[str]] = {}
    for name, messages in exc.fields.items():
        parts = name.split(".")
        if parts[0] == "withholdings" and len(parts) >= 2 and parts[1].isdigit():
            row = used[int(parts[1])]
            dom_id = f"w-{row}-{parts[2] if len(parts) > 2 else 'passage'}"
        elif parts[0] == "withholdings":
            dom_id = "w-0-passage"
        else:
            dom_id = "cases"
        by_id.setdefault(dom_id, []).extend(messages)
    labels = {"case": "Found in case", "passage": "Words to withhold", "authority": "Authority"}
    summary = []
    for dom_id, messages in by_id.items():
        if dom_id == "cases":
            label = "Cases to release"
        else:
            _, index, what = dom_id.split("-")
            label = f"Withholding {int(index) + 1}, {labels[what].lower()}"
        summary.append((dom_id, label, " ".join(messages)))
    return by_id, summary


@bp.route("/cases/<number>/packet", methods=["GET", "POST"])
def release_packet(number: str) -> Page:
    user = actor()
    posting = request.method == "POST"
    case, workflow = packet.load_request(user, number, write=posting)
    form = PacketForm() if posting else PacketForm(formdata=None)
    rows = _rows() if posting else []
    rows += [{"case": "", "passage": "", "authority": ""}] * SPARE_ROWS
    page: dict[str, Any] = {
        "case": case,
        "workflow": workflow,
        "form": form,
        "rows": rows,
        "authorities": packet.choices(),
        "releasable": packet.may_release(case, workflow),
        "errors": {},
        "summary": [],
        "preview": None,
    }
    if not posting:
        return render_template("cases/packet.html", **page)
    if not form.validate():
        return render_template("cases/packet.html", **page), 400
    data, used = _asked(form, rows)
    releasing = request.form.get("action") == "release"
    try:
        if releasing:
            row = packet.release_packet(user, case.number, data)
        else:
            page["preview"] = packet.plan_packet(user, case.number, data)
    except InvalidFields as exc:
        page["errors"], page["summary"] = _errors(exc, used)
        return render_template("cases/packet.html", **page), 422
    if not releasing:
        return render_template("cases/packet.html", **page)
    flash(
        f"The packet is released: {len(row.numbers)} record(s), "
        f"{len(row.withholdings)} passage(s) withheld. SHA-256 {row.sha256}.",
        "success",
    )
    return redirect(url_for("cases.case_page", number=case.number, _anchor="packets"))
