"""Case lists and full-text search on 100k cases and 1M events: server time per request.

    python bench/queries.py [--scale 1 | --cases 100000 --events 1000000] [--repeat 30] [--plans]
                            [--skip list | --skip search]

On the seeded database (bench/seed.py builds it first if needed), each scenario (a filter, a
sort, a page reached by number or by keyset cursor, a search) is requested `--repeat` times as
several users (the Director sees every case; a librarian every case but violations; a member of
staff also the receipts of what they reported), after a warm-up. Two times are taken:

- api: the whole `GET /api/v1/cases?...` request handled in this process (token check, the
  count of the visible cases, the page's ids, the rows, JSON), which is the server time of a
  request; the application is settled first, as a server settles it (`casework.settle`);
- query: `listing.list_cases` alone (the SQL).

`--plans` also prints each scenario's plain count and page ids' query plans to stderr (a list
narrowed by nothing the tallies do not count by takes its count from them instead);
`--skip search` (or `list`) leaves that kind out. Prints one JSON line: p50 and p95 per scenario
(milliseconds), the overall p95 of lists and of searches, and the machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

# Run as `python bench/queries.py`: the repository first on the import path, and this folder off
# it (bench/transitions.py would otherwise hide the `transitions` package).
if str(Path(__file__).resolve().parent) in sys.path:
    sys.path.remove(str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, seed

USERS = ("director", "librarian", "staff001")
#: p95 of the server's time, at the standard size and at ten times it (BENCH.md).
TARGETS = {"list_p95_ms": "< 15", "search_p95_ms": "< 100"}
TARGETS_10X = {"list_p95_ms": "< 20", "search_p95_ms": "< 150"}


def scenarios(sample: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """(name, kind, query parameters); `sample` holds values found in the data."""
    month_from, month_to = sample["month"]
    lists = [
        ("newest", {}),
        ("oldest", {"sort": "created_at"}),
        ("complaints_received", {"workflow": "complaint", "state": "received"}),
        ("state_engaged_recently_changed", {"state": "engaged", "sort": "-updated_at"}),
        ("assigned_to_librarian2", {"assignee": "librarian2"}),
        ("unassigned_complaints", {"workflow": "complaint", "assignee": "none"}),
        ("branch", {"branch": "Lucasville Branch"}),
        ("overdue_due_soonest", {"overdue": "1", "sort": "due_at"}),
        ("opened_in_a_month", {"opened_from": month_from, "opened_to": month_to}),
        (
            "moderation_kept_oldest",
            {"workflow": "moderation", "state": "kept", "sort": "created_at"},
        ),
        ("page_20", {"page": "20"}),
        ("page_200", {"page": "200"}),
        ("page_1000", {"page": "1000"}),
        ("last_page", {"page": str(sample["last_page"])}),
        ("cursor_after_page_200", {"cursor": sample["cursor_200"]}),
        ("cursor_after_page_1000", {"cursor": sample["cursor_1000"]}),
        ("per_page_200", {"per_page": "200"}),
    ]
    searches = [
        ("search_common_word", {"q": "parking"}),
        ("search_two_words", {"q": "parking lights"}),
        ("search_prefix", {"q": "capt"}),
        ("search_rare_phrase", {"q": sample["rare_words"]}),
        ("search_case_number", {"q": sample["number"]}),
        ("search_and_filter", {"q": "wifi", "workflow": "complaint", "state": "engaged"}),
        ("search_page_10", {"q": "printer", "page": "10"}),
    ]
    return [(n, "list", p) for n, p in lists] + [(n, "search", p) for n, p in searches]


def sample_values(app: Any, client: Any, headers: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Values the scenarios need: a month, the last page, cursors deep in the list, a case.

    A cursor belongs to the user whose list gave it, so each user gets their own.
    """
    import sqlalchemy as sa

    from casework.extensions import db as sql
    from casework.models import Case

    first = client.get("/api/v1/cases", headers=headers["director"]).get_json()
    last_page = (first["total"] + first["per_page"] - 1) // first["per_page"]
    cursors: dict[int, dict[str, str]] = {200: {}, 1000: {}}
    for username, user_headers in headers.items():
        for page in cursors:
            body = client.get(f"/api/v1/cases?page={page}", headers=user_headers).get_json()
            # A list shorter than the page has no cursor past it: its last page's instead.
            if not body["next_cursor"]:
                last = (body["total"] + body["per_page"] - 1) // body["per_page"]
                body = client.get(
                    f"/api/v1/cases?page={max(last - 1, 1)}", headers=user_headers
                ).get_json()
            cursors[page][username] = body["next_cursor"]
    with harness.app_context(app):
        number, search_text = sql.session.execute(
            sa.select(Case.number, Case.search_text)
            .where(Case.workflow_key == "complaint")
            .limit(1)
        ).one()
        middle = sql.session.execute(
            sa.select(Case.created_at).order_by(Case.id).offset(first["total"] // 2).limit(1)
        ).scalar_one()
    words = search_text.split("\n")[1].split()[:3]
    return {
        "last_page": last_page,
        "cursor_200": cursors[200],
        "cursor_1000": cursors[1000],
        "number": number,
        "rare_words": " ".join(w.strip(".") for w in words),
        "month": (middle.date().isoformat(), middle.date().replace(day=28).isoformat()),
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    seed.add_size_arguments(parser)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--plans", action="store_true")
    parser.add_argument(
        "--skip", action="append", choices=("list", "search"), default=[], help="leave a kind out"
    )
    args = parser.parse_args()
    cases, events = seed.size(args)

    from casework import settle
    from casework.extensions import db as sql
    from casework.services import listing
    from casework.services.tokens import issue_token
    from casework.services.users import find_user

    db = seed.ensure(cases, events)
    app = harness.make_app(db)
    results: dict[str, dict[str, Any]] = {}
    every: dict[str, dict[str, list[float]]] = {
        "list": {"api": [], "query": []},
        "search": {"api": [], "query": []},
    }
    headers = {}
    with harness.app_context(app):
        for username in USERS:
            user = find_user(username)
            assert user is not None, f"the seeded database has no user {username}"
            headers[username] = {"Authorization": f"Bearer {issue_token(user)}"}
        sql.session.commit()
    # Requests run outside any app context of ours, each in its own, as in a server.
    client = app.test_client()
    sample = sample_values(app, client, headers)
    settle()  # as `casework serve` and wsgi.py leave the built application to the collector
    kinds = [k for k in ("list", "search") if k not in args.skip]
    chosen = [(n, k, p) for n, k, p in scenarios(sample) if k in kinds]
    for name, kind, shared in chosen:
        api_times: list[float] = []
        query_times: list[float] = []
        totals = set()
        for username in USERS:
            params = {k: v[username] if isinstance(v, dict) else v for k, v in shared.items()}
            for i in range(args.repeat + 2):
                started = time.perf_counter()
                response = client.get(
                    "/api/v1/cases", query_string=params, headers=headers[username]
                )
                took = time.perf_counter() - started
                assert response.status_code == 200, (name, response.get_json())
                if i >= 2:
                    api_times.append(took * 1000)
                totals.add((username, response.get_json()["total"]))
            with harness.app_context(app):
                user = find_user(username)
                assert user is not None
                f = listing.parse_filter(params)
                for i in range(args.repeat + 2):
                    started = time.perf_counter()
                    listing.list_cases(user, f)
                    took = time.perf_counter() - started
                    sql.session.rollback()
                    if i >= 2:
                        query_times.append(took * 1000)
                if args.plans and username == "librarian":
                    print_plans(name, user, f)
        every[kind]["api"] += api_times
        every[kind]["query"] += query_times
        results[name] = {
            "api_p50": round(statistics.median(api_times), 2),
            "api_p95": round(percentile(api_times, 95), 2),
            "query_p50": round(statistics.median(query_times), 2),
            "query_p95": round(percentile(query_times, 95), 2),
            "matches": dict(sorted(totals)),
        }
        print(f"{name}: {results[name]}", file=sys.stderr)

    worst = {
        kind: max((n for n, k, _ in chosen if k == kind), key=lambda n: results[n]["api_p95"])
        for kind in kinds
    }
    figures: dict[str, Any] = {}
    for kind in kinds:
        figures[f"{kind}_api_p95_ms"] = round(percentile(every[kind]["api"], 95), 2)
        figures[f"{kind}_query_p95_ms"] = round(percentile(every[kind]["query"], 95), 2)
        figures[f"{kind}_worst_scenario"] = {worst[kind]: results[worst[kind]]["api_p95"]}
    harness.report(
        "queries",
        {
            "cases": cases,
            "events": events,
            "repeat_per_user": args.repeat,
            "users": list(USERS),
            **figures,
            "scenarios_ms": results,
            "targets": TARGETS_10X if cases >= 10 * seed.CASES_PER_SCALE else TARGETS,
        },
        db,
    )


def print_plans(name: str, user: Any, f: Any) -> None:
    """The query plans of a list's statements (COUNT and page ids), to stderr."""
    import sqlalchemy as sa

    from casework.extensions import db as sql
    from casework.models import Case
    from casework.services import listing

    conditions = listing.filter_conditions(user, f, listing.utcnow())
    column, descending = listing.SORTS[f.sort]
    order = (column.desc(), Case.id.desc()) if descending else (column.asc(), Case.id.asc())
    statements = {
        "count": sa.select(sa.func.count()).select_from(Case).where(*conditions),
        "ids": sa.select(Case.id).where(*conditions).order_by(*order).limit(f.per_page + 1),
    }
    dialect = sql.engine.dialect
    for label, stmt in statements.items():
        compiled = stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
        prefix = "EXPLAIN QUERY PLAN " if dialect.name == "sqlite" else "EXPLAIN "
        rows = sql.session.execute(sa.text(prefix + str(compiled))).all()
        plan = "\n    ".join(" ".join(str(c) for c in row) for row in rows)
        print(f"--- {name} / {label}:\n    {plan}", file=sys.stderr)
    sql.session.rollback()


if __name__ == "__main__":
    main()
