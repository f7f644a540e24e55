"""The queues, dashboard, workflow pages, registry, people and administration pages."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import sqlalchemy as sa
from webpages import Visitor, page_text

from casework.extensions import db
from casework.library import library
from casework.models import Case, Event
from casework.services import figures


def test_each_role_has_its_own_queue(app, cast, api):
    complaint = api.open("librarian", "complaint", summary="Hours", channel="email")["number"]
    escalated = api.open("librarian", "complaint", summary="Escalate me", channel="email")["number"]
    api.ok("librarian", escalated, "escalate", reason="Asked for the Director")
    post = api.open(
        "social", "moderation", post_url="https://social.example/p", content="Hi", is_complaint="no"
    )["number"]
    account = api.open(
        "staff", "account", platform="tiktok", handle="@ppl", branch="Main", purpose="Fun"
    )["number"]
    report = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["olive"],
        category="logo_misuse",
        description="Logo",
    )["number"]
    decided = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["olive"],
        category="logo_misuse",
        description="Logo 2",
    )["number"]
    api.ok("director", decided, "dismiss", reason="duplicate", explanation="Same as before")

    def home(user: str) -> str:
        response = Visitor(app, user).get("/")
        assert response.status_code == 200
        return page_text(response.text)

    librarian = home("librarian")
    assert "New and overdue complaints" in librarian and complaint in librarian
    director = home("director")
    assert "Complaints escalated to you" in director and escalated in director
    assert "Violation reports to inspect" in director and report in director
    assert "Accounts awaiting approval" in director and account in director
    hr = home("hr")
    assert "Decided violation cases: dismissed" in hr and decided in hr and report not in hr
    social = home("social")
    assert "Flagged posts" in social and post in social and account in social
    staff = home("staff")
    assert "Report a concern" in staff and report in staff and "Your report (receipt)" in staff
    assert "Logo" not in staff
    admin = home("admin")
    assert "Users" in admin and complaint not in admin and report not in admin


def test_assigned_cases_show_in_the_queue(app, cast, api):
    number = api.open("librarian", "complaint", summary="Mine", channel="email")["number"]
    api.post(f"/cases/{number}/assignee", "librarian", json={"username": "social"})
    page = page_text(Visitor(app, "social").get("/").text)
    assert "Assigned to you" in page and number in page


def test_dashboard_counts_median_and_chart(app, cast, api):
    numbers = [
        api.open("librarian", "complaint", summary=f"C{i}", channel="email")["number"]
        for i in range(3)
    ]
    api.ok("librarian", numbers[0], "engage", response="Answered")
    with app.app_context():
        # Make the engagement take exactly 10 hours, to check the median.
        case = db.session.execute(sa.select(Case).where(Case.number == numbers[0])).scalar_one()
        event = db.session.execute(
            sa.select(Event).where(Event.case_id == case.id, Event.to_state == "engaged")
        ).scalar_one()
        opened = event.at - timedelta(hours=10)
        case.created_at = opened
        # Time counts from when the library received the complaint (its "received on" field).
        case.fields_json = json.dumps(
            {**case.fields, "received_at": opened.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        )
        db.session.commit()
        user = cast.user("librarian")
        complaint = library().workflow("complaint")
        figure = next(f for f in complaint.figures if "engaged" in f.to_states)
        assert figures.median_time(user, complaint, figure) == timedelta(hours=10)
        db.session.rollback()
    page = Visitor(app, "librarian").get("/dashboard")
    assert page.status_code == 200
    text = page_text(page.text)
    assert "10.0 hours" in text
    assert re.search(r"Received\s+2", text) and re.search(r"Engaged\s+1", text)
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"' in page.text
    assert 'aria-labelledby="chart-title chart-desc"' in page.text
    assert "The numbers behind the chart" in text
    assert 'href="/cases?workflow=complaint&amp;state=received"' in page.text


def test_workflow_pages_draw_the_definitions(app, cast):
    visitor = Visitor(app, "staff")
    index = visitor.get("/workflows")
    with app.app_context():
        workflows = list(library().workflows)
    for workflow in workflows:
        assert f'href="/workflows/{workflow.key}"' in index.text
        page = visitor.get(f"/workflows/{workflow.key}")
        assert page.status_code == 200
        assert f'aria-labelledby="wf-{workflow.key}-title wf-{workflow.key}-desc"' in page.text
        assert "<style" not in page.text, "the diagram must not need inline styles"
        text = page_text(page.text)
        for t in workflow.transitions.values():
            assert t.label in text
        for s in workflow.states.values():
            assert s.label in text
    complaint = page_text(visitor.get("/workflows/complaint").text)
    assert "Engage within 2 business days" in complaint
    assert re.search(r"Escalated Resolved Library Director Resolution \(required\)", complaint)
    assert visitor.get("/workflows/nope").status_code == 404


def test_registry_lists_active_accounts_administrators_and_denied_authors(app, cast, api):
    account = api.open(
        "social",
        "account",
        platform="facebook",
        handle="@PPL",
        branch="Main",
        purpose="News",
        administrators=["social"],
    )["number"]
    api.ok("director", account, "approve")
    api.ok("social2", account, "approve")
    api.ok("social", account, "activate")
    post = api.open(
        "social",
        "moderation",
        account=account,
        post_url="https://social.example/q",
        author="troll42",
        content="Buy now",
        is_complaint="no",
    )["number"]
    api.ok("social", post, "remove", grounds="spam_or_advertising", note="Spam")
    api.ok(
        "social",
        post,
        "deny_access",
        reason="Repeated spam",
        duration="90_days",
        review_on="2027-01-15",
    )
    page = page_text(Visitor(app, "librarian").get("/registry").text)
    assert "@PPL" in page and "Social (social)" in page and "troll42" in page
    # The print button is a form (every print is recorded), not a link.
    assert 'action="/registry.pdf"' in Visitor(app, "librarian").get("/registry").text


def test_people_pages_for_editors_only(app, cast, api):
    number = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["olive"],
        category="logo_misuse",
        description="Logo",
    )["number"]
    hr = Visitor(app, "hr")
    listing = hr.get("/people")
    assert listing.status_code == 200 and "Olive Outsider" in listing.text
    person = hr.get(f"/people/{cast.person_ids['olive']}")
    assert number in person.text
    assert f'action="/people/{cast.person_ids["olive"]}/history.pdf"' in person.text
    added = hr.post("/people", {"name": "New Person", "employee_id": "E-new", "branch": "Main"})
    assert added.status_code == 302
    clash = hr.post("/people", {"name": "Again", "employee_id": "E-new"})
    assert clash.status_code == 422 and "Another person has this employee id." in clash.text
    assert Visitor(app, "staff").get("/people").status_code == 403
    assert hr.get("/people/999999").status_code == 404
    admin = Visitor(app, "admin").get(f"/people/{cast.person_ids['olive']}")
    assert admin.status_code == 200 and number not in admin.text


def test_admin_manages_users_and_sees_no_case_content(app, cast, api):
    number = api.open("librarian", "complaint", summary="Secretive", channel="email")["number"]
    admin = Visitor(app, "admin")
    users = admin.get("/admin/users")
    assert users.status_code == 200 and "librarian" in users.text
    librarian_id = re.search(r'href="/admin/users/(\d+)">librarian<', users.text).group(1)
    saved = admin.post(
        f"/admin/users/{librarian_id}",
        {
            "display_name": "Luis Ortega",
            "email": "luis@library.example",
            "roles": ["librarian_in_charge", "social_media_team"],
        },
    )
    assert saved.status_code == 302
    with app.app_context():
        assert cast.user("librarian").assigned_roles == ["librarian_in_charge", "social_media_team"]
        db.session.rollback()
    bad = admin.post(
        f"/admin/users/{librarian_id}", {"display_name": "x", "email": "nope", "roles": []}
    )
    assert (
        bad.status_code == 422
        and "Give one or more of" in bad.text
        and "e-mail address" in bad.text
    )
    taken = admin.post("/admin/users/new", {"username": "librarian", "roles": ["staff"]})
    assert taken.status_code == 422 and "That user name is taken." in taken.text
    for path in ("/", "/cases", f"/cases/{number}", "/dashboard", "/registry", "/cases/export.csv"):
        response = admin.get(path)
        assert "Secretive" not in response.get_data(as_text=True), path
    assert admin.get(f"/cases/{number}").status_code == 404
    assert Visitor(app, "director").get("/admin/users").status_code == 403


def test_the_last_administrator_keeps_the_role(app, cast):
    admin = Visitor(app, "admin")
    users = admin.get("/admin/users")
    admin_id = re.search(r'href="/admin/users/(\d+)">admin<', users.text).group(1)
    response = admin.post(f"/admin/users/{admin_id}", {"display_name": "IT", "roles": ["staff"]})
    # Nobody changes their own roles, so the last administrator cannot give up the role either.
    assert response.status_code == 403 and "own roles" in response.text
    with app.app_context():
        assert cast.user("admin").assigned_roles == ["admin"]


def test_the_administrator_alone_finds_no_case_pages(app, cast, api):
    number = api.open("librarian", "complaint", summary="Hours", channel="email")["number"]
    admin = Visitor(app, "admin")
    for path in ("/cases", "/cases/new", f"/cases/{number}", "/dashboard", "/cases/export.csv"):
        response = admin.get(path)
        assert response.status_code == 404, path
        assert "Hours" not in response.text, path
        assert number not in response.text or number in path, path
    assert admin.post("/cases/export.csv", {}).status_code == 404
    home = page_text(admin.get("/").text)
    assert "Users" in home and "Dashboard" not in home
    # Holding another role as well, the same person sees what that role may see.
    cast.add_user("it_librarian", "admin", "librarian_in_charge")
    both = Visitor(app, "it_librarian")
    assert both.get("/cases").status_code == 200 and both.get("/dashboard").status_code == 200
    assert both.get(f"/cases/{number}").status_code == 200
