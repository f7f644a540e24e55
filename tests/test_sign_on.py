"""Single sign-on with OpenID Connect, against a real provider (oidc-provider-mock) on loopback."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import oidc_provider_mock
import pytest
import requests
import sqlalchemy as sa
from webpages import PASSWORD, Visitor, csrf_token, set_password
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from casework import create_app
from casework.config import ConfigurationError
from casework.extensions import db
from casework.models import AdministrationEvent, SignOnIdentity, User
from casework.services import signon


@contextmanager
def running_provider(wrap: Any = None, **options: Any) -> Iterator[str]:
    """An OpenID provider on a loopback port in a thread; its issuer URL."""
    app = oidc_provider_mock.app(**options)
    server = make_server("127.0.0.1", 0, wrap(app) if wrap else app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with running_provider() as issuer:
        yield issuer


def sign_on_config(issuer: str, **config: Any) -> dict[str, Any]:
    return {
        "OIDC_ISSUER": issuer,
        "OIDC_CLIENT_ID": "casework",
        "OIDC_CLIENT_SECRET": "casework-secret",
        "OIDC_BUTTON_LABEL": "Sign in with Microsoft",
        "BASE_URL": "http://localhost",
        **config,
    }


@pytest.fixture
def sso(make_app, provider, cast):
    """An app signing on through the provider, with the standard cast (librarian has an address)."""
    app = make_app(**sign_on_config(provider))
    set_email(app, "librarian", "Lib.Rarian@library.example")
    return app


def set_email(app, username: str, email: str | None) -> None:
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.username == username)).scalar_one()
        user.email = email
        db.session.commit()


def provider_user(issuer: str, sub: str, **claims: Any) -> None:
    """Tell the provider who `sub` is (the claims its id tokens will carry)."""
    response = requests.put(f"{issuer}/users/{quote(sub, safe='')}", json=claims, timeout=10)
    assert response.status_code == 204


def start(client) -> Any:
    """Press the sign-on button; the response sends the browser to the provider."""
    page = client.get("/sign-in")
    return client.post("/sign-on", data={"csrf_token": csrf_token(page.text)})


def authorize(location: str, sub: str, action: str | None = None) -> str:
    """Sign in at the provider as `sub`; the path and query it sends the browser back to."""
    data = {"sub": sub}
    if action:
        data["action"] = action
    answer = requests.post(location, data=data, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:500]
    back = urlsplit(answer.headers["Location"])
    assert (back.scheme, back.netloc, back.path) == ("http", "localhost", "/sign-on/callback")
    return f"{back.path}?{back.query}"


def sign_on(client, issuer: str, sub: str, **claims: Any) -> Any:
    """The whole round trip; the response to the provider's answer."""
    if claims:
        provider_user(issuer, sub, **claims)
    started = start(client)
    assert started.status_code == 302, started.text[:500]
    callback = authorize(started.headers["Location"], sub)
    # The browser comes back from the provider's site.
    return client.get(callback, headers={"Sec-Fetch-Site": "cross-site"})


def signed_in_as(client) -> str | None:
    with client.session_transaction() as session:
        found = session.get("_user_id")
    return str(found).split(":")[0] if found else None


def user_id(app, username: str) -> int:
    with app.app_context():
        found: int = db.session.execute(
            sa.select(User.id).where(User.username == username)
        ).scalar_one()
        return found


def identities(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(User.username, SignOnIdentity.issuer, SignOnIdentity.subject)
            .join(User, User.id == SignOnIdentity.user_id)
            .order_by(SignOnIdentity.id)
        )
        return [tuple(r) for r in rows]


def trail(app) -> list[tuple[str, str, str, dict[str, Any]]]:
    with app.app_context():
        events = db.session.execute(
            sa.select(AdministrationEvent).order_by(AdministrationEvent.seq)
        ).scalars()
        return [(e.actor, e.action, e.subject, e.data) for e in events if "sign_on" in e.action]


def user_count(app) -> int:
    with app.app_context():
        found: int = db.session.execute(sa.select(sa.func.count()).select_from(User)).scalar_one()
        return found


def failures(app) -> int:
    from casework.models import ThrottleHit

    with app.app_context():
        found: int = db.session.execute(
            sa.select(sa.func.count()).select_from(ThrottleHit)
        ).scalar_one()
        return found


VERIFIED = {"email": "lib.rarian@library.example", "email_verified": True, "name": "Lib"}


# --- signing on -------------------------------------------------------------------------------


def test_the_button_starts_the_code_flow_with_pkce_state_and_nonce(sso, provider):
    client = sso.test_client()
    page = client.get("/sign-in")
    assert "Sign in with Microsoft" in page.text
    assert 'action="/sign-on?next=' in page.text
    started = start(client)
    assert started.status_code == 302
    location = urlsplit(started.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == provider
    query = parse_qs(location.query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["casework"]
    assert query["redirect_uri"] == ["http://localhost/sign-on/callback"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0]
    assert set(query["scope"][0].split()) == {"openid", "email", "profile"}


def test_the_button_needs_the_pages_csrf_token(sso):
    client = sso.test_client()
    client.get("/sign-in")
    assert client.post("/sign-on", data={}).status_code == 400


def test_first_sign_on_links_by_verified_email_and_signs_in(sso, provider):
    client = sso.test_client()
    response = sign_on(client, provider, "sub-librarian", **VERIFIED)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert signed_in_as(client) == str(user_id(sso, "librarian"))
    assert client.get("/account").status_code == 200
    assert identities(sso) == [("librarian", provider, "sub-librarian")]
    [(actor, action, subject, data)] = trail(sso)
    assert (actor, action, subject) == ("librarian", "sign_on_linked", "librarian")
    assert data == {
        "issuer": provider,
        "subject": "sub-librarian",
        "email": "lib.rarian@library.example",
    }


def test_the_next_page_survives_the_round_trip(sso, provider):
    client = sso.test_client()
    provider_user(provider, "sub-next", **VERIFIED)
    page = client.get("/sign-in?next=/account")
    started = client.post("/sign-on?next=/account", data={"csrf_token": csrf_token(page.text)})
    back = client.get(authorize(started.headers["Location"], "sub-next"))
    assert back.status_code == 302
    assert back.headers["Location"] == "/account"


def test_later_sign_ons_find_the_user_by_subject_not_by_address(sso, provider):
    assert sign_on(sso.test_client(), provider, "sub-lib", **VERIFIED).status_code == 302
    # The provider's address changes and is no longer verified: the subject still finds them.
    client = sso.test_client()
    response = sign_on(client, provider, "sub-lib", email="other@example.org", email_verified=False)
    assert response.status_code == 302
    assert signed_in_as(client) == str(user_id(sso, "librarian"))
    assert len(trail(sso)) == 1  # linked once
    # Someone else at the provider given the librarian's address is not let in as them.
    other = sso.test_client()
    refused = sign_on(other, provider, "sub-newcomer", **VERIFIED)
    assert refused.status_code == 403
    assert "already linked to another identity" in refused.text
    assert signed_in_as(other) is None


def test_a_wrong_state_is_refused_and_changes_nothing(sso, provider):
    client = sso.test_client()
    provider_user(provider, "sub-state", **VERIFIED)
    started = start(client)
    callback = authorize(started.headers["Location"], "sub-state")
    path, _, query = callback.partition("?")
    params = parse_qs(query)
    forged = f"{path}?code={params['code'][0]}&state=not-the-state"
    response = client.get(forged, headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 400
    assert "does not belong to a sign-on this browser started" in response.text
    assert signed_in_as(client) is None
    assert identities(sso) == []
    assert failures(sso) == 0  # another site could send such links: they spend no one's limit
    # Another browser cannot use this one's answer either.
    stranger = sso.test_client()
    assert stranger.get(callback).status_code == 400
    assert signed_in_as(stranger) is None


def test_a_replayed_code_is_refused(sso, provider):
    first = sso.test_client()
    provider_user(provider, "sub-replay", **VERIFIED)
    started = start(first)
    callback = authorize(started.headers["Location"], "sub-replay")
    assert first.get(callback).status_code == 302
    # The same answer again, in the same browser: its state was used up.
    again = first.get(callback)
    assert again.status_code == 400
    # The used code with a state of a new start: the provider refuses it.
    second = sso.test_client()
    state = parse_qs(urlsplit(start(second).headers["Location"]).query)["state"][0]
    code = parse_qs(callback.partition("?")[2])["code"][0]
    replayed = second.get(f"/sign-on/callback?code={code}&state={state}")
    assert replayed.status_code == 401
    assert "could not be accepted" in replayed.text
    assert signed_in_as(second) is None
    assert failures(sso) == 2  # counted (the name and the address), once the state matched


def test_an_expired_id_token_is_refused(make_app, cast):
    with running_provider(access_token_max_age=timedelta(hours=-1)) as issuer:
        app = make_app(**sign_on_config(issuer))
        set_email(app, "librarian", "lib.rarian@library.example")
        client = app.test_client()
        response = sign_on(client, issuer, "sub-expired", **VERIFIED)
    assert response.status_code == 401
    assert "could not be accepted" in response.text
    assert "expired" not in response.text.lower()  # no detail of the check leaks
    assert signed_in_as(client) is None
    assert identities(app) == []


def test_an_unknown_user_is_refused_and_no_account_is_made(sso, provider, caplog):
    before = user_count(sso)
    client = sso.test_client()
    with caplog.at_level(logging.WARNING):
        response = sign_on(
            client, provider, "sub-stranger", email="who@example.org", email_verified=True
        )
    assert response.status_code == 403
    assert "Signing on does not create accounts" in response.text
    assert signed_in_as(client) is None
    assert user_count(sso) == before
    assert identities(sso) == []
    assert any("no user has this verified address" in r.getMessage() for r in caplog.records)


def test_an_unverified_address_links_nobody(sso, provider):
    client = sso.test_client()
    claims = {**VERIFIED, "email_verified": False}
    response = sign_on(client, provider, "sub-unverified", **claims)
    assert response.status_code == 403
    assert "did not say your e-mail address is verified" in response.text
    assert identities(sso) == []
    assert signed_in_as(client) is None


def test_entra_domain_verification_stands_for_email_verified():
    assert signon.verified_email({"email": "a@b.example", "xms_edov": True}) == "a@b.example"
    assert signon.verified_email({"email": "a@b.example", "xms_edov": False}) is None
    assert signon.verified_email({"email": "a@b.example"}) is None
    # An explicit "not verified" is not overruled by the domain.
    unverified = {"email": "a@b.example", "email_verified": False, "xms_edov": True}
    assert signon.verified_email(unverified) is None


def test_a_disabled_user_is_refused_linked_or_not(sso, provider):
    from casework.services.users import set_active

    assert sign_on(sso.test_client(), provider, "sub-disabled", **VERIFIED).status_code == 302
    set_email(sso, "hr", "hr@library.example")
    with sso.app_context():
        for name in ("librarian", "hr"):
            user = db.session.execute(sa.select(User).where(User.username == name)).scalar_one()
            set_active("admin", user, False)
        db.session.commit()
    linked = sso.test_client()
    response = sign_on(linked, provider, "sub-disabled")
    assert response.status_code == 403
    assert "disabled" in response.text
    assert signed_in_as(linked) is None
    fresh = sso.test_client()
    response = sign_on(fresh, provider, "sub-hr", email="hr@library.example", email_verified=True)
    assert response.status_code == 403
    assert identities(sso) == [("librarian", provider, "sub-disabled")]


def test_the_provider_declining_is_a_clear_page(sso, provider):
    client = sso.test_client()
    provider_user(provider, "sub-deny", **VERIFIED)
    started = start(client)
    callback = authorize(started.headers["Location"], "sub-deny", action="deny")
    assert "error=access_denied" in callback
    response = client.get(callback)
    assert response.status_code == 401
    assert "did not sign you in" in response.text
    assert signed_in_as(client) is None


def test_an_unreachable_provider_is_a_clear_page(make_app, cast):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = make_app(**sign_on_config(f"http://127.0.0.1:{port}", OIDC_TIMEOUT=2))
    response = start(app.test_client())
    assert response.status_code == 502
    assert "cannot be reached" in response.text


def test_failed_sign_ons_are_throttled(make_app, provider, cast):
    app = make_app(**sign_on_config(provider, SIGN_IN_FAILURES=2))
    stranger = {"email": "nobody@example.org", "email_verified": True}
    first = sign_on(app.test_client(), provider, "sub-throttled", **stranger)
    assert first.status_code == 403
    second = sign_on(app.test_client(), provider, "sub-throttled")
    assert second.status_code == 429
    assert "Too many failed sign-ins" in second.text
    assert int(second.headers["Retry-After"]) > 0
    # A person who signs on fine from the same address is not held back by someone else.
    set_email(app, "librarian", "lib.rarian@library.example")
    assert sign_on(app.test_client(), provider, "sub-ok", **VERIFIED).status_code == 302


# --- multi-factor, passwords off ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("trust", "amr", "mfa"),
    [
        (True, ["pwd", "mfa"], True),
        (True, ["pwd", "otp"], True),
        (True, ["pwd"], False),
        (True, None, False),
        (False, ["pwd", "mfa"], False),
    ],
)
def test_the_providers_amr_is_trusted_only_when_configured(
    make_app, provider, cast, trust, amr, mfa
):
    app = make_app(**sign_on_config(provider, OIDC_TRUST_MFA=trust))
    set_email(app, "director", "director@library.example")
    claims: dict[str, Any] = {"email": "director@library.example", "email_verified": True}
    if amr is not None:
        claims["amr"] = amr
    client = app.test_client()
    assert sign_on(client, provider, f"sub-mfa-{trust}-{amr}", **claims).status_code == 302
    with client.session_transaction() as session:
        assert session["mfa"] is mfa
        assert session["signed_in_via"] == "sign-on"


def test_what_counts_as_multi_factor():
    assert signon.multi_factor({"amr": ["mfa"]})
    assert signon.multi_factor({"amr": ["pwd", "hwk"]})
    assert signon.multi_factor({"amr": ["ngcmfa"]})
    assert signon.multi_factor({"amr": ["fpt", "hwk"]})
    assert not signon.multi_factor({"amr": ["pwd", "pin"]})  # two things one knows
    assert not signon.multi_factor({"amr": ["otp"]})
    assert not signon.multi_factor({"amr": "pwd"})
    assert not signon.multi_factor({"amr": [1, None]})
    assert not signon.multi_factor({})


def test_a_password_sign_in_is_not_multi_factor(app, cast):
    visitor = Visitor(app, "director")
    with visitor.client.session_transaction() as session:
        assert session["mfa"] is False
        assert session["signed_in_via"] == "password"


def test_with_local_passwords_off_only_break_glass_administrators_use_one(make_app, provider, cast):
    app = make_app(**sign_on_config(provider, LOCAL_PASSWORDS="false", BREAK_GLASS="admin, hr"))
    page = app.test_client().get("/sign-in")
    assert "Casework passwords are switched off here" in page.text
    assert "Break-glass administrator sign-in" in page.text
    for name in ("librarian", "admin", "hr"):
        set_password(app, name)
    refused = Visitor(app).sign_in("librarian", set_it=False)
    assert refused.status_code == 401
    assert "The user name or password is not right." in refused.text  # as for a wrong password
    # Listed but not an administrator: no password either.
    assert Visitor(app).sign_in("hr", set_it=False).status_code == 401
    assert Visitor(app).sign_in("admin", set_it=False).status_code == 302
    # Signing on is how everyone else gets in.
    set_email(app, "librarian", "lib.rarian@library.example")
    assert sign_on(app.test_client(), provider, "sub-pw-off", **VERIFIED).status_code == 302


def test_local_passwords_stay_on_by_default(sso):
    page = sso.test_client().get("/sign-in")
    assert "Or with a Casework password" in page.text
    set_password(sso, "librarian")
    assert Visitor(sso).sign_in("librarian", PASSWORD, set_it=False).status_code == 302


def test_a_signed_on_user_is_not_sent_to_change_a_password_they_do_not_use(sso, provider):
    set_password(sso, "librarian", must_change_password=True)
    client = sso.test_client()
    assert sign_on(client, provider, "sub-onetime", **VERIFIED).status_code == 302
    assert client.get("/account").status_code == 200


# --- configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ({"OIDC_ISSUER": "https://idp.example"}, "CASEWORK_OIDC_CLIENT_ID, CASEWORK_OIDC_CLIENT"),
        ({"OIDC_CLIENT_SECRET": "s"}, "CASEWORK_OIDC_ISSUER, CASEWORK_OIDC_CLIENT_ID is not set"),
        ({"LOCAL_PASSWORDS": False}, "single sign-on is not configured"),
        (
            {"OIDC_ISSUER": "http://idp.example", "OIDC_CLIENT_ID": "c", "OIDC_CLIENT_SECRET": "s"},
            "must be an https:// address",
        ),
        (
            {
                "OIDC_ISSUER": "https://idp.example",
                "OIDC_CLIENT_ID": "c",
                "OIDC_CLIENT_SECRET": "s",
                "OIDC_SCOPES": "email",
            },
            "must include openid",
        ),
        ({"OIDC_TRUST_MFA": "perhaps"}, "CASEWORK_OIDC_TRUST_MFA"),
    ],
)
def test_start_up_refuses_half_a_configuration(database_url, config, says):
    from conftest import BASE_CONFIG

    with pytest.raises(ConfigurationError, match=says):
        create_app({**BASE_CONFIG, "DATABASE_URL": database_url, **config})


def test_the_command_line_says_what_is_wrong_without_a_traceback(monkeypatch):
    from click.testing import CliRunner

    from casework.cli import main

    monkeypatch.setenv("CASEWORK_OIDC_ISSUER", "https://idp.example")
    result = CliRunner().invoke(main, ["users", "list"])
    assert result.exit_code == 2
    assert "Single sign-on is half configured" in result.output
    assert "Traceback" not in result.output


def test_without_sign_on_there_is_no_button_and_no_flow(app):
    client = app.test_client()
    page = client.get("/sign-in")
    assert "/sign-on" not in page.text
    token = csrf_token(page.text)
    assert client.post("/sign-on", data={"csrf_token": token}).status_code == 404
    assert client.get("/sign-on/callback?code=x&state=y").status_code == 404


# --- IT unlinks -------------------------------------------------------------------------------


def test_it_unlinks_an_identity_and_it_is_recorded(sso, provider):
    assert sign_on(sso.test_client(), provider, "sub-old", **VERIFIED).status_code == 302
    admin = Visitor(sso, "admin")
    librarian = user_id(sso, "librarian")
    page = admin.get(f"/admin/users/{librarian}")
    assert "sub-old" in page.text
    with sso.app_context():
        identity = db.session.execute(sa.select(SignOnIdentity.id)).scalar_one()
    # Only the identity's own user's page unlinks it.
    wrong = admin.post(f"/admin/users/{user_id(sso, 'hr')}/sign-on/{identity}/unlink")
    assert wrong.status_code == 404
    done = admin.post(f"/admin/users/{librarian}/sign-on/{identity}/unlink")
    assert done.status_code == 302
    assert identities(sso) == []
    assert [(a, action) for a, action, _, _ in trail(sso)] == [
        ("librarian", "sign_on_linked"),
        ("admin", "sign_on_unlinked"),
    ]
    # A new account at the provider with the librarian's verified address links afresh.
    assert sign_on(sso.test_client(), provider, "sub-new", **VERIFIED).status_code == 302
    assert identities(sso) == [("librarian", provider, "sub-new")]


def test_the_sign_in_pages_policy_lets_the_button_go_on_to_the_provider(sso, provider):
    client = sso.test_client()
    policy = client.get("/sign-in").headers["Content-Security-Policy"]
    assert f"form-action 'self' {provider};" in policy
    assert "frame-ancestors 'none'" in policy
    # Every other page keeps forms to Casework itself.
    assert "form-action 'self';" in client.get("/about").headers["Content-Security-Policy"]


class ElsewhereIssuer:
    """A provider whose discovery document names an issuer other than the one configured."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: Any, start_response: Any) -> Any:
        if environ.get("PATH_INFO") != "/.well-known/openid-configuration":
            return self.app(environ, start_response)
        document = json.loads(Response.from_app(self.app, environ).get_data())
        document["issuer"] = "https://elsewhere.example"
        return Response(json.dumps(document), mimetype="application/json")(environ, start_response)


def test_a_discovery_document_naming_another_issuer_is_refused(make_app, cast):
    with running_provider(ElsewhereIssuer) as issuer:
        app = make_app(**sign_on_config(issuer))
        response = start(app.test_client())
    assert response.status_code == 502
    assert "cannot be reached" in response.text
