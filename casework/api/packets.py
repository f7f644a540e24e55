"""Release packets of a records request: preview, release, list and download."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, url_for

from casework.api.blueprint import bp
from casework.api.printing import pdf_response
from casework.api.views import body, created, user
from casework.http.transaction import commit_now
from casework.printing import packet
from casework.printing.documents import Printed
from casework.services.audit import format_at

FIELDS = ("cases",)
OPTIONAL = ("withholdings",)


def packet_json(number: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item["id"],
        "event": item["event"],
        "sha256": item["sha256"],
        "size": item["size"],
        "released_at": format_at(item["released_at"]),
        "released_by": item["released_by"],
        "cases": item["cases"],
        "withholdings": item["withholdings"],
        "download": url_for("api.packet_pdf", number=number, packet_id=item["id"])
        if item["complete"]
        else None,
    }


@bp.get("/cases/<number>/packets")
def packets(number: str) -> Response:
    actor = user()
    request_case, _ = packet.load_request(actor, number)
    items = [packet_json(request_case.number, p) for p in packet.packets_of(actor, request_case)]
    return jsonify({"items": items})


@bp.post("/cases/<number>/packets/preview")
def preview_packet(number: str) -> Response:
    actor = user()
    data = body(FIELDS, OPTIONAL)
    built, pdf = packet.preview_packet(actor, number, data)
    return pdf_response(Printed(pdf, f"{built.request}-packet-preview.pdf", ()))


@bp.post("/cases/<number>/packets")
def release_packet(number: str) -> tuple[Response, int]:
    actor = user()
    data = body(FIELDS, OPTIONAL)
    row = packet.release_packet(actor, number, data)
    commit_now()
    request_number = number.strip().upper()
    payload = packet_json(request_number, packet.shown_packet(row))
    return created(payload, payload["download"])


@bp.get("/cases/<number>/packets/<int:packet_id>.pdf")
def packet_pdf(number: str, packet_id: int) -> Response:
    actor = user()
    row, filename = packet.packet_file(actor, number, packet_id)
    return pdf_response(Printed(row.content, filename, ()), download=True)
