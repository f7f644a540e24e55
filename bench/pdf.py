"""Printed records: Casework's print path against a naive WeasyPrint render of the same data.

    python bench/pdf.py [--runs 5]

Builds a database (a temporary SQLite file, or CASEWORK_DATABASE_URL) holding a short complaint,
a complaint with 500 events, an employee with 20 violation cases, and what the limits allow at
their worst: a complaint whose notes fill the case's note text with notes at their longest, one
with as many notes as a case may hold, and an employee with 100 violation cases (from ten
reporters: the reports-an-hour limit is per reporter). Then times, in one process:

- naive: the same data through a straightforward template (five-column timeline, separate notes,
  automatic table layout, system fonts, default WeasyPrint options), rendered in process;
- casework: `casework.printing` as the API runs it (load, authorize, cache, render in
  a child process, record the print event, stamp, commit). "cold" empties the document cache
  before every run; "unchanged" prints again a case that has not changed since. The documents
  at the limits must stay well inside the render limit (CASEWORK_PRINT_TIME_LIMIT), reported
  alongside.

WeasyPrint is imported (and warmed) once before timing; its import time is reported apart.
Prints one JSON line: medians in seconds, and the machine it ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

# Run from the repository, not from bench/ (whose scripts share names with libraries).
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.harness import machine  # noqa: E402 (after the path is set)

NAIVE_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
@page { size: letter; margin: 2cm;
  @bottom-right { content: "Page " counter(page) " of " counter(pages); }
  @bottom-left { content: "Generated {{ generated }}"; } }
body { font-family: serif; font-size: 10pt; }
table { width: 100%; border-collapse: collapse; }
th, td { border: 1px solid #999; padding: 3px; vertical-align: top; text-align: left; }
.record { page-break-before: always; }
</style></head><body>
{% if person %}<h1>Employee case history: {{ person.name }}</h1>
<table><tr><th>Case</th><th>Reported</th><th>Category</th><th>State</th></tr>
{% for c in cases %}<tr><td>{{ c.number }}</td><td>{{ c.created_at }}</td>
<td>{{ c.fields.get("category", "") }}</td><td>{{ c.state }}</td></tr>{% endfor %}</table>
{% endif %}
{% for c in cases %}<div class="{{ 'record' if person }}">
<h1>{{ c.number }}: {{ c.title }}</h1>
<p>{{ library }} · {{ c.workflow_key }} · {{ c.state }}</p>
<h2>Fields</h2><table>{% for k, v in c.fields.items() %}<tr><th>{{ k }}</th><td>{{ v }}</td></tr>
{% endfor %}</table>
<h2>Timeline</h2>
<table><thead><tr><th>#</th><th>When</th><th>Who</th><th>Action</th><th>From</th><th>To</th>
<th>Data</th></tr></thead><tbody>
{% for e in c.events %}<tr><td>{{ e.seq }}</td><td>{{ e.at }}</td><td>{{ e.actor }}</td>
<td>{{ e.action }}</td><td>{{ e.from_state or "" }}</td><td>{{ e.to_state or "" }}</td>
<td>{{ e.data }}</td></tr>{% endfor %}</tbody></table>
<h2>Notes</h2>{% for e in c.events if e.action == "note" %}<p><b>{{ e.actor }}, {{ e.at }}</b><br>
{{ e.data["text"] }}</p>{% endfor %}
<p>Chain head: {{ c.head_seq }} {{ c.head_hash }}</p></div>{% endfor %}
</body></html>"""


def median_of(runs: int, fn: Callable[[], Any]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 4)


def build(app: Any) -> dict[str, Any]:
    """The cases the bench prints; returns their numbers and the employee's id."""
    from casework.extensions import db
    from casework.models import utcnow
    from casework.services import activity, firing, opening
    from casework.services.people import create_person
    from casework.services.users import create_user

    with app.app_context():
        librarian = create_user("librarian", ["librarian_in_charge"], display_name="Luis Ortega")
        director = create_user("director", ["director"], display_name="Dana Whitfield")
        create_user("hr", ["hr"], display_name="Harriet Nguyen")
        reporter = create_user("reporter", ["staff"])
        start = utcnow() - timedelta(days=400)
        short = opening.open_case(
            librarian,
            "complaint",
            {
                "summary": "Story time was cancelled without notice",
                "channel": "facebook",
                "patron": "M. Garcia",
                "content": "Why was story time cancelled? Nobody told us.",
                "branch": "Main Library",
            },
            now=start,
        )
        firing.fire(
            librarian,
            _loaded(short, "librarian_in_charge"),
            "engage",
            1,
            {"response": "Apologised on Facebook and posted the new schedule."},
            now=start + timedelta(hours=3),
        )
        activity.add_note(
            librarian,
            _loaded(short),
            "Branch manager confirmed the cancellation.",
            now=start + timedelta(hours=4),
        )
        long = opening.open_case(
            librarian,
            "complaint",
            {
                "summary": "Saturday hours at the Wheelersburg Branch",
                "channel": "facebook",
                "patron": "J. Patron",
                "content": "Why is the branch closed on Saturdays?",
            },
            now=start,
        )
        for i in range(499):
            at = start + timedelta(hours=i + 1)
            if i % 50 == 0:
                trigger = (
                    "engage"
                    if long.state == "received"
                    else ("reopen" if long.state == "resolved" else "resolve")
                )
                fields = {
                    "engage": {"response": f"Answered on Facebook (round {i})."},
                    "reopen": {"reason": f"The patron wrote back (round {i})."},
                    "resolve": {"resolution": f"Schedule explained (round {i})."},
                }[trigger]
                firing.fire(
                    librarian,
                    _loaded(long, "librarian_in_charge"),
                    trigger,
                    long.version,
                    fields,
                    now=at,
                )
            else:
                activity.add_note(
                    librarian,
                    _loaded(long),
                    f"Follow-up {i}: called the patron back about the Saturday schedule; they "
                    "asked for a written answer, which was sent by e-mail the same day.",
                    now=at,
                )
        person = create_person("Jordan Lee", "E2001", "New Boston Branch")
        categories = ["harassment", "logo_misuse", "unprofessional", "workplace_impact"]
        for i in range(20):
            at = start + timedelta(days=i * 10)
            fields: dict[str, Any] = {
                "subject": person.id,
                "category": categories[i % 4],
                "description": f"A post on a personal account about coworkers ({i}).",
                "on_duty": "off",
                "platform": "Facebook",
            }
            case = opening.open_case(reporter, "violation", fields, now=at)
            steps = [
                ("inspect", {"cause": "A staff report.", "findings": f"The post is public ({i})."}),
                ("review", {"assessment": "Reviewed with the branch manager."}),
                ("discipline", {"action": "written_warning", "handbook_reference": "4.2"})
                if i % 2
                else (
                    "dismiss",
                    {
                        "reason": "protected_communication",
                        "explanation": "Speech on a matter of public concern.",
                    },
                ),
            ]
            for n, (trigger, given) in enumerate(steps):
                firing.fire(
                    director,
                    _loaded(case, "director"),
                    trigger,
                    case.version,
                    given,
                    now=at + timedelta(days=n + 1),
                )
        at_limits = _case_at_limits(app, librarian, start)
        many_notes = _case_at_limits(app, librarian, start, most_notes=True)
        person100 = create_person("Casey Morgan", "E2002", "Main Library")
        reporters = [create_user(f"reporter{i}", ["staff"]) for i in range(10)]
        for i in range(100):
            at = start + timedelta(days=i * 3)
            case = opening.open_case(
                reporters[i % 10],
                "violation",
                {
                    "subject": person100.id,
                    "category": categories[i % 4],
                    "description": f"A post on a personal account about coworkers ({i}).",
                    "on_duty": "off",
                    "platform": "Facebook",
                },
                now=at,
            )
            firing.fire(
                director,
                _loaded(case, "director"),
                "inspect",
                case.version,
                {"cause": "A staff report.", "findings": f"The post is public ({i})."},
                now=at + timedelta(days=1),
            )
            if i % 3 == 0:
                firing.fire(
                    director,
                    _loaded(case, "director"),
                    "dismiss",
                    case.version,
                    {
                        "reason": "protected_communication",
                        "explanation": "Speech on a matter of public concern.",
                    },
                    now=at + timedelta(days=2),
                )
        db.session.commit()
        return {
            "short": short.number,
            "long": long.number,
            "person": person.id,
            "at_limits": at_limits,
            "many_notes": many_notes,
            "person100": person100.id,
        }


def _case_at_limits(app: Any, author: Any, start: Any, *, most_notes: bool = False) -> str:
    """A complaint whose notes reach the limits: every note at its longest until the case's
    note text is full, or (`most_notes`) as many notes as a case may hold sharing that text."""
    from casework.services import activity, opening

    config = app.config
    longest, most_text = int(config["NOTE_MAX_CHARS"]), int(config["NOTE_TEXT_PER_CASE"])
    count = int(config["NOTES_PER_CASE"]) if most_notes else most_text // longest
    size = min(longest, most_text // count)
    case = opening.open_case(
        author,
        "complaint",
        {"summary": "A long exchange", "channel": "facebook", "patron": "P", "content": "Why?"},
        now=start,
    )
    sentence = "The patron called again about the schedule and asked for a written answer. "
    for i in range(count):
        text = (f"Note {i}. " + sentence * (size // len(sentence) + 1))[:size]
        activity.add_note(author, _loaded(case), text, now=start + timedelta(minutes=i + 1))
    number: str = case.number
    return number


def _loaded(case: Any, *roles: str) -> Any:
    """The case as a member of staff holding `roles` sees it: in full."""
    from casework.services.access import CaseAccess, Level
    from casework.services.definitions import workflow_of
    from casework.services.loading import LoadedCase

    access = CaseAccess(Level.FULL, frozenset({"staff", *roles}))
    return LoadedCase(case, workflow_of(case), access)


def naive_render(app: Any, numbers: list[str], person: Any = None) -> bytes:
    """The straightforward render: every event, system fonts, WeasyPrint's defaults."""
    import jinja2
    import sqlalchemy as sa
    import weasyprint

    from casework.extensions import db
    from casework.models import Case, Event

    with app.app_context():
        shown = []
        for number in numbers:
            case = db.session.execute(sa.select(Case).where(Case.number == number)).scalar_one()
            events = db.session.execute(
                sa.select(Event).where(Event.case_id == case.id).order_by(Event.seq)
            ).scalars()
            shown.append(
                {
                    "number": case.number,
                    "title": case.title,
                    "workflow_key": case.workflow_key,
                    "state": case.state,
                    "created_at": case.created_at,
                    "fields": case.fields,
                    "head_seq": case.head_seq,
                    "head_hash": case.head_hash,
                    "events": [
                        {
                            "seq": e.seq,
                            "at": e.at,
                            "actor": e.actor,
                            "action": e.action,
                            "from_state": e.from_state,
                            "to_state": e.to_state,
                            "data": e.data,
                        }
                        for e in events
                    ],
                }
            )
        html = (
            jinja2.Environment(autoescape=True)
            .from_string(NAIVE_TEMPLATE)
            .render(cases=shown, person=person, title="Record", library="Library", generated="now")
        )
        db.session.rollback()
    pdf: bytes = weasyprint.HTML(string=html).write_pdf()
    return pdf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    runs = args.runs

    import sqlalchemy as sa

    from casework import create_app
    from casework.extensions import db, upgrade_schema

    url = os.environ.get("CASEWORK_DATABASE_URL")
    schema = None
    if url and url.startswith("postgresql"):
        # A schema of its own, dropped at the end: the database's other tables are not touched.
        schema = f"bench_pdf_{os.getpid()}"
        admin = sa.create_engine(url)
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url += ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"
    elif not url:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='casework-bench-')) / 'bench.sqlite'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade_schema()
    try:
        run(app, runs)
    finally:
        if schema:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            admin.dispose()


def run(app: Any, runs: int) -> None:
    """Build the data, time both renders, print the JSON line."""
    from casework.extensions import db

    limit_runs = max(3, runs // 2)  # the documents at the limits take seconds each

    made = build(app)

    started = time.perf_counter()
    import weasyprint  # noqa: F401  (the import is timed on its own)

    import_seconds = time.perf_counter() - started

    from casework.models import RenderedDocument
    from casework.printing import documents, render
    from casework.printing.history import employee_history_pdf
    from casework.printing.record import case_record_pdf
    from casework.services.users import find_user

    started = time.perf_counter()
    render.renderer(render.stylesheet(), str(render.print_folder()))
    warm_seconds = time.perf_counter() - started

    def print_record(number: str, user: str = "librarian", *, cold: bool) -> None:
        with app.app_context():
            if cold:
                db.session.execute(db.delete(RenderedDocument))
                db.session.commit()
            actor = find_user(user)
            case_record_pdf(actor, number)
            db.session.commit()

    def print_history(*, cold: bool, person: str = "person") -> None:
        with app.app_context():
            if cold:
                db.session.execute(db.delete(RenderedDocument))
                db.session.commit()
            employee_history_pdf(find_user("hr"), made[person])
            db.session.commit()

    with app.app_context():
        import sqlalchemy as sa

        from casework.models import Case

        violation_numbers = list(
            db.session.execute(
                sa.select(Case.number)
                .where(Case.subject_person_id == made["person"])
                .order_by(Case.id)
            ).scalars()
        )

    class Person:
        name = "Jordan Lee"

    naive = {
        "record_1_page": median_of(runs, lambda: naive_render(app, [made["short"]])),
        "record_500_events": median_of(
            max(1, runs // 2), lambda: naive_render(app, [made["long"]])
        ),
        "history_20_cases": median_of(
            max(1, runs // 2), lambda: naive_render(app, violation_numbers, Person())
        ),
    }
    ours = {
        "record_1_page_warm": median_of(runs, lambda: print_record(made["short"], cold=True)),
        "record_repeat_unchanged": median_of(
            runs * 4, lambda: print_record(made["short"], cold=False)
        ),
        "record_500_events_cold": median_of(runs, lambda: print_record(made["long"], cold=True)),
        "record_500_events_unchanged": median_of(
            runs, lambda: print_record(made["long"], cold=False)
        ),
        "history_20_cases_cold": median_of(runs, lambda: print_history(cold=True)),
        "history_20_cases_unchanged": median_of(runs, lambda: print_history(cold=False)),
        "record_at_note_limits_cold": median_of(
            limit_runs, lambda: print_record(made["at_limits"], cold=True)
        ),
        "record_most_notes_cold": median_of(
            limit_runs, lambda: print_record(made["many_notes"], cold=True)
        ),
        "history_100_cases_cold": median_of(
            limit_runs, lambda: print_history(cold=True, person="person100")
        ),
    }
    with app.app_context():
        import io

        from pypdf import PdfReader

        pages = {}

        for key, number in (("record_1_page", made["short"]), ("record_500_events", made["long"])):
            content = case_record_pdf(find_user("librarian"), number).content
            pages[key] = len(PdfReader(io.BytesIO(content)).pages)
        history = employee_history_pdf(find_user("hr"), made["person"]).content
        pages["history_20_cases"] = len(PdfReader(io.BytesIO(history)).pages)
        for key, number in (
            ("record_at_note_limits", made["at_limits"]),
            ("record_most_notes", made["many_notes"]),
        ):
            content = case_record_pdf(find_user("librarian"), number).content
            pages[key] = len(PdfReader(io.BytesIO(content)).pages)
        history = employee_history_pdf(find_user("hr"), made["person100"]).content
        pages["history_100_cases"] = len(PdfReader(io.BytesIO(history)).pages)
        limits = {
            name: app.config[name]
            for name in ("NOTE_MAX_CHARS", "NOTES_PER_CASE", "NOTE_TEXT_PER_CASE")
        }
        limits["PRINT_TIME_LIMIT"] = documents.time_limit()
        dialect = db.engine.dialect.name
        db.session.rollback()

    ratios = {
        "record_1_page": round(naive["record_1_page"] / ours["record_1_page_warm"], 2),
        "record_500_events": round(naive["record_500_events"] / ours["record_500_events_cold"], 2),
        "history_20_cases": round(naive["history_20_cases"] / ours["history_20_cases_cold"], 2),
    }
    print(
        json.dumps(
            {
                "bench": "pdf",
                "runs": runs,
                "database": dialect,
                "pdf_variant": render.PDF_OPTIONS.get("pdf_variant"),
                "weasyprint_import_s": round(import_seconds, 3),
                "first_render_setup_s": round(warm_seconds, 3),
                "naive_s": naive,
                "casework_s": ours,
                "speedup_vs_naive": ratios,
                "pages": pages,
                "limits": limits,
                "machine": {**machine(), "weasyprint": weasyprint.__version__},
            }
        )
    )


if __name__ == "__main__":
    main()
