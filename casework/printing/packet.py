"""Release packets: the public-records copies of chosen cases, with passages withheld on review.

A packet answers a records request (a case whose workflow lists `release_states`). Each case it
holds is printed as its public-records copy (confidential fields withheld automatically); on top
of that the officer names passages of free text to withhold, each citing a legal authority from
the configured list (`services.authorities`). A passage is cut out of the record's data wherever
it occurs in the packet, before any HTML exists (`printing.withholding`), and what is left in its
place is a box with the authority beside it: the withheld words are never in the document, so no
black box hides them.

Releasing a packet renders one PDF, keeps it with its SHA-256 and the list of withholdings
(record, place, authority; never the withheld text), and appends a `packet_released` event with
the same to the request's trail, in the request's one transaction. Nothing here commits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from casework.errors import InvalidFields, NotFound, Refused
from casework.extensions import db
from casework.library.authorities import authorities, authority
from casework.models import Case, Event, ReleasePacket, User, utcnow
from casework.printing import content
from casework.printing.documents import clock, document_date, render_pdf, setting_parts
from casework.printing.withholding import Cut, Cutter, Rule, passage_pattern
from casework.services.activity import record_access
from casework.services.audit import append_event
from casework.services.loading import load_case, require_full
from casework.services.unseen import numbers_in, unseen_numbers
from casework.workflow import Workflow
from casework.workflow.fields import clean_text

#: The most cases one packet holds, passages one packet withholds, characters in one passage.
MOST_CASES = 50
MOST_WITHHOLDINGS = 200
MOST_PASSAGE = 2_000


@dataclass(frozen=True)
class Packet:
    """The records a packet holds, already cut, and the cuts made."""

    request: str
    records: tuple[content.Record, ...]
    cuts: tuple[Cut, ...]
    #: (case, workflow, chain head printed) of each record.
    heads: tuple[tuple[Case, Workflow, dict[str, Any]], ...]
    latest: datetime | None

    @property
    def numbers(self) -> list[str]:
        return [r.number for r in self.records]


# --- what is asked for ---------------------------------------------------------------------------


def parse(data: Mapping[str, Any]) -> tuple[list[str], list[tuple[str, str, str]]]:
    """The case numbers and the (case, passage, authority code) withholdings asked for, checked
    for shape; `InvalidFields` naming each bad one."""
    errors: dict[str, list[str]] = {}
    raw_cases = data.get("cases")
    numbers: list[str] = []
    if not isinstance(raw_cases, list) or not all(isinstance(n, str) for n in raw_cases):
        errors["cases"] = ['Give the case numbers as a list, such as ["CMP-2026-0042"].']
    else:
        for n in raw_cases:
            clean = n.strip().upper()
            if clean and clean not in numbers:
                numbers.append(clean)
        if not numbers:
            errors["cases"] = ["Name at least one case to release."]
        elif len(numbers) > MOST_CASES:
            errors["cases"] = [f"A packet holds at most {MOST_CASES} cases."]
    raw = data.get("withholdings", [])
    asked: list[tuple[str, str, str]] = []
    if not isinstance(raw, list):
        errors["withholdings"] = ["Give the withholdings as a list."]
        raw = []
    elif len(raw) > MOST_WITHHOLDINGS:
        errors["withholdings"] = [f"A packet withholds at most {MOST_WITHHOLDINGS} passages."]
        raw = []
    for i, w in enumerate(raw):
        at = f"withholdings.{i}"
        if not isinstance(w, dict) or set(w) - {"case", "passage", "authority"}:
            errors[at] = ["Each withholding is an object of case, passage and authority."]
            continue
        case = w.get("case")
        if not isinstance(case, str) or case.strip().upper() not in numbers:
            errors[f"{at}.case"] = ["Name one of the packet's cases."]
        try:
            passage = clean_text(w.get("passage"), multiline=True, max_length=MOST_PASSAGE)
        except ValueError as exc:
            errors[f"{at}.passage"] = [str(exc)]
            passage = ""
        else:
            if not passage:
                errors[f"{at}.passage"] = ["Give the words or passage to withhold."]
        code = w.get("authority")
        if not isinstance(code, str) or authority(code.strip()) is None:
            errors[f"{at}.authority"] = ["Choose a legal authority from the library's list."]
        if not any(k.startswith(at) for k in errors):
            assert isinstance(case, str) and isinstance(code, str)  # nosec B101 # checked above
            asked.append((case.strip().upper(), passage, code.strip()))
    if errors:
        raise InvalidFields(errors)
    return numbers, asked


# --- building ------------------------------------------------------------------------------------


def load_request(actor: User, number: Any, *, write: bool = False) -> tuple[Case, Workflow]:
    """The records request a packet belongs to, read in full by `actor`; `NotFound` if it is
    hidden or takes no packets, `Forbidden` for a receipt-only reader."""
    case, workflow, access = load_case(actor, number, write=write)
    if not workflow.release_states:
        raise NotFound(f"{workflow.title} cases have no release packets.")
    require_full(access)
    return case, workflow


def may_release(case: Case, workflow: Workflow) -> bool:
    return case.state in workflow.release_states


def _records(actor: User, numbers: Sequence[str]) -> list[tuple[Case, Workflow]]:
    """Each case as `actor` may read it in full; `InvalidFields` on `cases` naming those not
    found, whether unknown or hidden (the same words for both)."""
    found: list[tuple[Case, Workflow]] = []
    missing: list[str] = []
    for n in numbers:
        try:
            case, workflow, access = load_case(actor, n)
        except NotFound:
            missing.append(n)
            continue
        if not access.full:
            missing.append(n)
            continue
        found.append((case, workflow))
    if missing:
        raise InvalidFields(
            {"cases": [f"No case you may read in full is numbered {', '.join(missing)}."]}
        )
    return found


def build_packet(
    actor: User, request: Case, numbers: Sequence[str], asked: Sequence[tuple[str, str, str]]
) -> Packet:
    """The packet's records, cut; `InvalidFields` for a case `actor` may not read or a passage
    not found in the releasable text of the case it names."""
    if request.number in numbers:
        raise InvalidFields({"cases": ["A request's packet cannot hold the request itself."]})
    chosen = _records(actor, numbers)
    plain: dict[str, content.Record] = {}
    heads = []
    latest: datetime | None = None
    for case, workflow in chosen:
        seq, digest, at = content.content_head(case)
        stored = db.session.execute(
            sa.select(Event.data_json).where(Event.case_id == case.id, Event.seq <= seq)
        ).scalars()
        hidden = unseen_numbers(actor, numbers_in([case.fields, *stored]) - {case.number})
        plain[case.number] = content.build_record(
            case,
            workflow,
            through=seq,
            people=content.people_of([(case, workflow)]),
            clock=clock(),
            redacted=True,
            hidden=hidden,
            reviewed=True,
        )
        heads.append((case, workflow, {"seq": seq, "hash": digest}))
        if at is not None and (latest is None or at > latest):
            latest = at
    rules: list[Rule] = []
    errors: dict[str, list[str]] = {}
    for i, (number, passage, code) in enumerate(asked):
        found = authority(code)
        assert found is not None  # nosec B101 # `parse` checked it
        rule = (passage_pattern(passage), found)
        probe = Cutter(number, [rule])
        probe.record(plain[number])
        if not probe.cuts:
            errors[f"withholdings.{i}.passage"] = [
                f"Not found in what {number}'s public-records copy shows (a confidential "
                "field is withheld already)."
            ]
        rules.append(rule)
    if errors:
        raise InvalidFields(errors)
    records = []
    cuts: list[Cut] = []
    for number in plain:
        cutter = Cutter(number, rules)
        records.append(cutter.record(plain[number]))
        cuts += cutter.cuts
    return Packet(request.number, tuple(records), tuple(cuts), tuple(heads), latest)


def render_packet(packet: Packet) -> bytes:
    key = hashlib.sha256(
        json.dumps(
            {"request": packet.request, "numbers": packet.numbers, **setting_parts()},
            sort_keys=True,
        ).encode()
    ).hexdigest()
    return render_pdf(
        "packet.html",
        key,
        request=packet.request,
        records=packet.records,
        cuts=packet.cuts,
        created=document_date(packet.latest),
        title=f"Release packet {packet.request}",
        subject=f"Public records released in answer to request {packet.request}",
    )


def _record_prints(actor: User, packet: Packet, *, preview: bool, now: datetime) -> None:
    for case, workflow, head in packet.heads:
        load_case(actor, case.number, write=True, shows=False)
        data = {
            "document": "release packet preview" if preview else "release packet",
            "request": packet.request,
            "redacted": True,
            "chain_head": head,
        }
        record_access(actor, case, workflow, "print", data, at=now)


def preview_packet(actor: User, number: Any, data: Mapping[str, Any]) -> tuple[Packet, bytes]:
    """The packet as it would be released, rendered and not kept; each print recorded."""
    request, _ = load_request(actor, number, write=True)
    numbers, asked = parse(data)
    packet = build_packet(actor, request, numbers, asked)
    pdf = render_packet(packet)
    _record_prints(actor, packet, preview=True, now=utcnow())
    return packet, pdf


def plan_packet(actor: User, number: Any, data: Mapping[str, Any]) -> Packet:
    """The packet as it would be released, for a preview page (nothing rendered or recorded)."""
    request, _ = load_request(actor, number)
    numbers, asked = parse(data)
    return build_packet(actor, request, numbers, asked)


def release_packet(
    actor: User, number: Any, data: Mapping[str, Any], *, now: datetime | None = None
) -> ReleasePacket:
    """Render the packet, keep it, and record it in the request's trail (hash and withholdings)
    and each record's print, in the caller's transaction.

    Raises `InvalidFields` for what `parse` and `build_packet` refuse, `Refused` when the request
    is not in a state that releases packets.
    """
    request, workflow = load_request(actor, number, write=True)
    if not may_release(request, workflow):
        state = workflow.states[request.state].label.lower()
        raise Refused(f"A packet cannot be released while the request is {state}.")
    numbers, asked = parse(data)
    packet = build_packet(actor, request, numbers, asked)
    pdf = render_packet(packet)
    now = now or utcnow()
    digest = hashlib.sha256(pdf).hexdigest()
    withholdings = [c.stored() for c in packet.cuts]
    event = append_event(
        request,
        actor.username,
        "packet_released",
        {
            "sha256": digest,
            "size": len(pdf),
            "cases": packet.numbers,
            "withholdings": withholdings,
        },
        at=now,
        changes={"updated_at": now},
    )
    row = ReleasePacket(
        case_id=request.id,
        seq=event.seq,
        sha256=digest,
        size=len(pdf),
        content=pdf,
        cases_json=json.dumps(packet.numbers),
        withholdings_json=json.dumps(withholdings),
        released_by=actor.username,
        released_at=now,
    )
    db.session.add(row)
    _record_prints(actor, packet, preview=False, now=now)
    db.session.flush()
    return row


def packets_of(actor: User, request: Case) -> list[dict[str, Any]]:
    """The packets released for a request, newest first, the numbers of cases `actor` may not
    see left out of what is shown (and the packet not downloadable by them)."""
    rows = db.session.execute(
        sa.select(ReleasePacket)
        .where(ReleasePacket.case_id == request.id)
        .order_by(ReleasePacket.id.desc())
    ).scalars()
    return [shown_packet(row, unseen_numbers(actor, row.numbers)) for row in rows]


def shown_packet(row: ReleasePacket, hidden: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A packet as listed, without the numbers in `hidden` (and then not downloadable)."""
    return {
        "id": row.id,
        "event": row.seq,
        "sha256": row.sha256,
        "size": row.size,
        "released_at": row.released_at,
        "released_by": row.released_by,
        "cases": [n for n in row.numbers if n not in hidden],
        "withholdings": [w for w in row.withholdings if w["case"] not in hidden],
        "complete": not hidden,
    }


def packet_file(actor: User, number: Any, packet_id: int) -> tuple[ReleasePacket, str]:
    """A released packet's PDF as kept, for a reader of the request who may also see every
    record in it; `NotFound` otherwise."""
    request, _ = load_request(actor, number)
    if not 0 < packet_id < 2**31:
        raise NotFound("There is no such packet that you may download.")
    row = db.session.execute(
        sa.select(ReleasePacket).where(
            ReleasePacket.case_id == request.id, ReleasePacket.id == packet_id
        )
    ).scalar_one_or_none()
    if row is None or unseen_numbers(actor, row.numbers):
        raise NotFound("There is no such packet that you may download.")
    return row, f"{request.number}-packet-{row.seq}.pdf"


def choices() -> list[tuple[str, str]]:
    """The authorities as (code, what is shown) for a form."""
    return [(a.code, a.cited) for a in authorities()]
