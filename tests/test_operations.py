"""What IT runs: backups that restore, restores that verify, health checks and metrics."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from tampering import tamper

from casework.cli import main
from casework.extensions import db
from casework.models import Case, Event, SweepRun
from casework.services.backup import scratch_database
from casework.services.backup.manifest import manifest_path
from casework.services.log.keys import ensure_signing_key


@pytest.fixture
def cli(database_url, monkeypatch):
    monkeypatch.setenv("CASEWORK_DATABASE_URL", database_url)
    monkeypatch.setenv("CASEWORK_SECRET_KEY", "cli-test-key")
    runner = CliRunner()

    def run(*args, code=0, url=None):
        env = {"CASEWORK_DATABASE_URL": url} if url else None
        result = runner.invoke(main, list(args), catch_exceptions=False, env=env)
        assert result.exit_code == code, result.output
        return result.output

    return run


def _numbers(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return set(connection.execute(sa.select(Case.number)).scalars())
    finally:
        engine.dispose()


def test_a_backup_taken_while_writers_run_restores_every_acknowledged_change(
    cli, api, app, database_url, tmp_path
):
    acknowledged: list[str] = []
    stop = threading.Event()
    errors: list[str] = []

    def write() -> None:
        client = app.test_client()
        headers = api.cast.headers("librarian")
        while not stop.is_set():
            response = client.post(
                "/api/v1/cases",
                headers=headers,
                json={"workflow": "complaint", "fields": {"summary": "x", "channel": "email"}},
            )
            if response.status_code == 201:
                acknowledged.append(response.get_json()["number"])
            elif response.status_code != 503:
                errors.append(f"{response.status_code} {response.get_data(as_text=True)}")

    writers = [threading.Thread(target=write) for _ in range(2)]
    for thread in writers:
        thread.start()
    try:
        while len(acknowledged) < 5:
            stop.wait(0.01)
        before = set(acknowledged)
        out = cli("backup", str(tmp_path / "live.backup"))
    finally:
        stop.set()
        for thread in writers:
            thread.join()
    assert not errors
    assert "sha256" in out
    manifest = json.loads(manifest_path(tmp_path / "live.backup").read_text())
    assert manifest["cases"] >= len(before)
    with app.app_context(), scratch_database(db.engine) as scratch:
        restored = cli("restore", str(tmp_path / "live.backup"), url=scratch)
        assert "audit verify: ok" in restored
        numbers = _numbers(scratch)
    assert before <= numbers
    assert len(numbers) == manifest["cases"]


def test_backup_verify_restores_into_a_scratch_database_and_checks_the_trail(cli, api, tmp_path):
    number = api.open("librarian", "complaint", summary="Rude reply", channel="x")["number"]
    api.ok("librarian", number, "engage", response="We answered on X.")
    out = cli("backup", str(tmp_path / "b"), "--verify")
    assert "1 cases, 2 events" in out
    assert "audit verify: ok: 1 cases, 2 events" in out
    manifest = json.loads((tmp_path / "b.manifest.json").read_text())
    assert manifest["schema_revision"] and manifest["events"] == 2
    assert len(manifest["sha256"]) == 64


def test_backup_verify_fails_when_the_trail_in_the_backup_is_broken(cli, api, app, tmp_path):
    number = api.open("librarian", "complaint", summary="Rude reply", channel="x")["number"]
    tamper(app, ("UPDATE events SET actor = 'mallory' WHERE seq = 1", {}))
    out = cli("backup", str(tmp_path / "b"), "--verify", code=1)
    assert f"BROKEN {number} event 1" in out


def test_a_damaged_backup_is_refused_with_a_clear_message(cli, api, database_url, tmp_path):
    api.open("librarian", "complaint", summary="Rude reply", channel="x")
    cli("backup", str(tmp_path / "b"))
    with (tmp_path / "b").open("r+b") as stream:
        stream.seek(2000)
        stream.write(b"\x00garbage\x00")
    out = cli("restore", str(tmp_path / "b"), "--force", code=1)
    assert "is damaged" in out and "Nothing was restored" in out
    assert "Traceback" not in out
    assert len(_numbers(database_url)) == 1
    listing = cli("backup", "--list", str(tmp_path))
    assert "DAMAGED b" in listing
    (tmp_path / "lonely").write_bytes(b"not a backup")
    out = cli("restore", str(tmp_path / "lonely"), code=1)
    assert "no manifest" in out


def test_restore_refuses_a_database_that_is_not_empty_and_names_what_would_be_lost(
    cli, api, database_url, tmp_path
):
    first = api.open("librarian", "complaint", summary="First", channel="x")["number"]
    cli("backup", str(tmp_path / "b"))
    second = api.open("librarian", "complaint", summary="Second", channel="x")["number"]
    out = cli("restore", str(tmp_path / "b"), code=1)
    assert "2 cases, 2 events" in out and "--force" in out
    assert _numbers(database_url) == {first, second}
    out = cli("restore", str(tmp_path / "b"), "--force")
    assert "audit verify: ok: 1 cases, 1 events" in out
    assert "took away 1 logged events" in out
    assert _numbers(database_url) == {first}
    # The restore is on the administration trail, with what it took away.
    trail = cli("audit", "verify")
    assert "administration trail" in trail
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            action, data_json = connection.execute(
                sa.text(
                    "SELECT action, data_json FROM administration_events ORDER BY seq DESC LIMIT 1"
                )
            ).one()
    finally:
        engine.dispose()
    assert action == "database_restored"
    assert json.loads(data_json)["events_lost"] == 1


def test_backup_list_shows_each_backup_with_its_counts(cli, api, tmp_path):
    cli("backup", str(tmp_path / "empty"))
    api.open("librarian", "complaint", summary="First", channel="x")
    cli("backup", str(tmp_path / "one"))
    listing = cli("backup", "--list", str(tmp_path)).splitlines()
    assert listing[0].endswith("one: 1 cases, 1 events")
    assert listing[1].endswith("empty: 0 cases, 0 events")


# --- health and metrics ---------------------------------------------------------------------


def test_healthz_and_readyz_answer_without_signing_in_and_without_case_data(client, api):
    api.open("librarian", "complaint", summary="Secret patron story", channel="x")
    health = client.get("/healthz")
    assert health.status_code == 200 and health.get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    body = ready.get_data(as_text=True)
    assert ready.get_json()["status"] == "ready"
    assert "CMP-" not in body and "Secret" not in body


def test_readyz_fails_when_the_schema_is_behind(client, app):
    with app.app_context():
        current = db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        db.session.execute(sa.text("UPDATE alembic_version SET version_num = '0001'"))
        db.session.commit()
    try:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "casework init" in ready.get_json()["checks"]["schema"]
    finally:
        with app.app_context():
            db.session.execute(
                sa.text("UPDATE alembic_version SET version_num = :v"), {"v": current}
            )
            db.session.commit()


def test_readyz_fails_when_the_database_is_down(app, make_app, tmp_path):
    if not os.environ.get("CASEWORK_TEST_DATABASE_URL"):
        down = f"sqlite:///{tmp_path / 'missing' / 'nowhere.sqlite'}"
    else:
        down = "postgresql+psycopg://casework@127.0.0.1:1/nowhere?connect_timeout=2"
    unreachable = make_app(DATABASE_URL=down)
    ready = unreachable.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["database"] == "not reachable"
    assert unreachable.test_client().get("/healthz").status_code == 200


def _metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        metric, _, value = line.rpartition(" ")
        if metric.split("{")[0] != name:
            continue
        if all(f'{k}="{v}"' in metric for k, v in labels.items()):
            return float(value)
    return 0.0


def test_metrics_count_requests_and_transitions_and_read_the_outbox(client, api):
    before = client.get("/metrics").get_data(as_text=True)
    number = api.open("librarian", "complaint", summary="Rude reply", channel="x")["number"]
    api.ok("librarian", number, "engage", response="We answered.")
    api.get(f"/cases/{number}", "librarian")
    after = client.get("/metrics").get_data(as_text=True)
    route = "/api/v1/cases/<number>"
    assert (
        _metric(after, "casework_requests_total", route=route, status="200")
        == _metric(before, "casework_requests_total", route=route, status="200") + 1
    )
    assert (
        _metric(after, "casework_transitions_total", workflow="complaint")
        == _metric(before, "casework_transitions_total", workflow="complaint") + 1
    )
    assert "casework_request_seconds_bucket" in after
    assert "casework_outbox_pending" in after and "casework_last_sweep_age_seconds" in after


def test_metrics_are_served_to_loopback_or_with_the_token_only(make_app):
    app = make_app(METRICS_TOKEN="scrape-me")
    client = app.test_client()
    far = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=far).status_code == 404
    wrong = {"Authorization": "Bearer nope"}
    assert client.get("/metrics", environ_base=far, headers=wrong).status_code == 404
    right = {"Authorization": "Bearer scrape-me"}
    assert client.get("/metrics", environ_base=far, headers=right).status_code == 200
    assert client.get("/metrics").status_code == 200


def test_each_sweep_is_recorded_for_monitoring(cli, app, client):
    cli("sweep", "--quiet")
    cli("sweep", "--quiet")
    with app.app_context():
        runs = db.session.execute(sa.select(SweepRun)).scalars().all()
        assert len(runs) == 2 and all(r.finished_at >= r.started_at for r in runs)
    text = client.get("/metrics").get_data(as_text=True)
    assert _metric(text, "casework_sweep_runs") == 2
    assert _metric(text, "casework_last_sweep_age_seconds") < 60


def test_json_log_lines_carry_level_logger_and_message():
    import logging

    from casework.monitoring.logs import JsonFormatter

    record = logging.LogRecord("casework.x", logging.WARNING, __file__, 1, "busy %s", ("db",), None)
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "warning" and line["logger"] == "casework.x"
    assert line["message"] == "busy db"


def test_event_count_in_backup_matches_the_database(cli, api, app, tmp_path):
    number = api.open("librarian", "complaint", summary="A", channel="x")["number"]
    api.post(f"/cases/{number}/notes", "librarian", json={"text": "called back"})
    cli("backup", str(tmp_path / "b"))
    with app.app_context():
        events = db.session.execute(sa.select(sa.func.count()).select_from(Event)).scalar()
    assert json.loads(Path(str(tmp_path / "b") + ".manifest.json").read_text())["events"] == events


def test_restoring_an_older_backup_is_explained_by_what_the_witnesses_saw(
    cli, api, app, database_url, tmp_path, monkeypatch
):
    witnesses = tmp_path / "witnesses"
    witnesses.mkdir()
    monkeypatch.setenv("CASEWORK_WITNESS_DIR", str(witnesses))
    with app.app_context():
        ensure_signing_key()
    api.open("librarian", "complaint", summary="First", channel="x")
    cli("backup", str(tmp_path / "b"))
    later = api.open("librarian", "complaint", summary="Second", channel="x")["number"]
    api.ok("librarian", later, "engage", response="Answered.")
    cli("audit", "checkpoint")  # a witness now holds the log with the later events
    assert list(witnesses.glob("checkpoint-*.txt"))
    with app.app_context(), scratch_database(db.engine) as scratch:
        out = cli("restore", str(tmp_path / "b"), url=scratch)
        assert "took away" in out and "checkpoint of" in out
        engine = sa.create_engine(scratch)
        try:
            with engine.connect() as connection:
                data_json = connection.execute(
                    sa.text(
                        "SELECT data_json FROM administration_events "
                        "WHERE action = 'database_restored'"
                    )
                ).scalar_one()
        finally:
            engine.dispose()
    data = json.loads(data_json)
    # The second complaint's two events, and the first complaint's number: gone, and said so.
    assert data["log_size_witnessed"] > data["log_size_restored"]
    assert data["events_lost"] == data["log_size_witnessed"] - data["log_size_restored"]
