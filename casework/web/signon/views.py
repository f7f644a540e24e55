"""Signing on through the library's OpenID Connect provider (Entra ID, Google Workspace …).

The authorization code flow with PKCE (S256), its state and nonce kept in the session and
checked by Authlib, the provider found by discovery from its issuer. Every way it can fail
ends on a page that says what to do, counts towards the sign-in limits once the state ties
the answer to this browser's own start, and is logged; none shows the provider's details.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.flask_client import OAuth, OAuthError
from flask import (
    Flask,
    Response,
    current_app,
    g,
    render_template,
    request,
    session,
    url_for,
)

from casework import config
from casework.errors import NotFound
from casework.http.identity import client_address
from casework.models import utcnow
from casework.services import limits, signon
from casework.services.db import refuse_writes
from casework.web import Page
from casework.web.auth.signin import finish_sign_in
from casework.web.auth.views import safe_next
from casework.web.security import CONTENT_SECURITY_POLICY
from casework.web.signon.blueprint import bp

log = logging.getLogger(__name__)

CLIENT = "casework_sign_on"
#: Where to go once signed on, kept in the session between the start and the provider's answer.
NEXT = "sign_on_next"
#: Failed sign-ons the provider could not tie to a person are counted under this name.
ANONYMOUS = "sign-on"

WRONG_STATE = (
    "This sign-on answer does not belong to a sign-on this browser started, or it was used "
    "already. Nothing was done: start again from the sign-in page."
)
PROVIDER_FAILED = (
    "The sign-on provider's answer could not be accepted, so you are not signed in. Start "
    "again from the sign-in page; if it happens again, tell IT the time it happened."
)
PROVIDER_DECLINED = (
    "The sign-on provider did not sign you in (you may have cancelled). Start again from the "
    "sign-in page when you are ready."
)
UNREACHABLE = (
    "The sign-on provider cannot be reached just now, so you are not signed in. Try again in "
    "a few minutes; if it goes on, tell IT."
)
TOO_MANY = (
    "Too many failed sign-ins from here. Try again {when}, or ask IT if this keeps happening."
)


def init(app: Flask) -> None:
    """Register the provider with Authlib when single sign-on is configured."""
    cfg = app.config
    app.jinja_env.globals["sign_on_label"] = None
    app.jinja_env.globals["local_passwords"] = cfg["LOCAL_PASSWORDS"]
    if not config.sign_on_configured(cfg):
        return
    app.jinja_env.globals["sign_on_label"] = str(cfg["OIDC_BUTTON_LABEL"] or "Sign on")
    app.after_request(let_the_button_reach_the_provider)
    oauth = OAuth(app)
    oauth.register(
        CLIENT,
        client_id=cfg["OIDC_CLIENT_ID"],
        client_secret=cfg["OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{cfg['OIDC_ISSUER']}/.well-known/openid-configuration",
        client_kwargs={
            "scope": " ".join(str(cfg["OIDC_SCOPES"]).split()),
            "code_challenge_method": "S256",
            "default_timeout": float(cfg["OIDC_TIMEOUT"]),
        },
    )


def origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def let_the_button_reach_the_provider(response: Response) -> Response:
    """The sign-in page's policy lets its form go on to the provider.

    Browsers hold a form's redirects to the page's `form-action`, so the button's answer (a
    redirect to the provider's authorization endpoint) needs the provider's origin there: the
    issuer's, and the endpoint's own once discovery has named it.
    """
    if request.endpoint != "auth.sign_in":
        return response
    client = provider()
    known = client.server_metadata.get("authorization_endpoint")
    origins = {origin(str(current_app.config["OIDC_ISSUER"])), origin(str(known or ""))}
    allowed = " ".join(sorted(o for o in origins if o))
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'", f"form-action 'self' {allowed}"
    )
    return response


def provider() -> Any:
    """The registered provider; `NotFound` when single sign-on is not configured."""
    oauth = current_app.extensions.get("authlib.integrations.flask_client")
    client = oauth.create_client(CLIENT) if oauth is not None else None
    if client is None:
        raise NotFound("Single sign-on is not configured here.")
    return client


def redirect_uri() -> str:
    """The address the provider sends people back to (to register with the provider)."""
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    return base + url_for("signon.callback")


def refusal(status: int, message: str, retry_after: int | None = None) -> Page:
    page = render_template("auth/sign_on_refused.html", message=message)
    if retry_after is not None:
        return page, status, {"Retry-After": str(retry_after)}
    return page, status


def throttled(name: str, address: str) -> Page | None:
    wait = limits.sign_in_refusal(name, address, utcnow())
    if wait is None:
        return None
    log.warning("sign-on refused for %r from %s: too many failed sign-ins", name, address)
    return refusal(429, TOO_MANY.replace("{when}", limits.when(wait)), wait)


def failed(status: int, message: str, reason: str, name: str = ANONYMOUS) -> Page:
    """A failed sign-on: logged, counted towards the sign-in limits, and answered."""
    address = client_address()
    log.warning("sign-on failed from %s: %s", address, reason)
    g.keep_changes = True  # the failure must be counted although the answer refuses
    wait = limits.count_sign_in_failure(name, address, utcnow())
    if wait is not None:
        return refusal(429, TOO_MANY.replace("{when}", limits.when(wait)), wait)
    return refusal(status, message)


def trusted_issuer(client: Any) -> None:
    """The discovery document must be the configured issuer's own (OpenID Discovery §4.3)."""
    issuer = str(current_app.config["OIDC_ISSUER"])
    found = str(client.load_server_metadata().get("issuer") or "").rstrip("/")
    if found != issuer:
        raise OAuthError("invalid_issuer", f"discovery names the issuer {found!r}")


@bp.post("/sign-on")
def start() -> Page:
    client = provider()
    address = client_address()
    refused = throttled(ANONYMOUS, address)
    if refused is not None:
        return refused
    target = safe_next(request.args.get("next"))
    try:
        trusted_issuer(client)
        response = client.authorize_redirect(redirect_uri())
    except Exception as exc:  # the provider unreachable or its discovery document unusable
        log.warning("sign-on could not start: %s: %s", type(exc).__name__, exc)
        return refusal(502, UNREACHABLE)
    session[NEXT] = target
    log.info("sign-on started from %s", address)
    return response


@bp.get("/sign-on/callback")
def callback() -> Page:
    client = provider()
    state = request.args.get("state", "")
    if not state or len(state) > 200 or client.framework.get_state_data(session, state) is None:
        # Not counted: without this browser's own state nothing reaches the provider, and
        # another site could otherwise spend someone's sign-in limit with links.
        if request.args.get("error"):  # some providers leave the state off their refusals
            log.warning(
                "sign-on declined by the provider for %s: %r",
                client_address(),
                request.args["error"][:100],
            )
            return refusal(401, PROVIDER_DECLINED)
        log.warning("sign-on answer refused from %s: the state matches no start", client_address())
        return refusal(400, WRONG_STATE)
    # The provider sends the browser back from its own site; the state ties this answer to the
    # sign-on this session started here, so it may write (link, count, sign in).
    refuse_writes(None)
    address = client_address()
    refused = throttled(ANONYMOUS, address)
    if refused is not None:
        return refused
    target = safe_next(session.get(NEXT))
    if request.args.get("error"):
        client.framework.clear_state_data(session, state)
        reason = f"the provider answered {request.args['error'][:100]!r}"
        return failed(401, PROVIDER_DECLINED, reason)
    try:
        trusted_issuer(client)  # another worker may be the first here to read the discovery
        token = client.authorize_access_token()
    except requests.RequestException as exc:
        log.warning("sign-on answer from %s not checked: %s", address, type(exc).__name__)
        return refusal(502, UNREACHABLE)
    except OAuthError as exc:  # a used or wrong code, a token the provider refused to issue
        return failed(401, PROVIDER_FAILED, f"the provider refused the code: {exc.error}")
    except Exception as exc:  # an id token that fails its checks (signature, expiry, nonce …)
        return failed(401, PROVIDER_FAILED, f"{type(exc).__name__}: {exc}")
    claims = token.get("userinfo")
    if not claims:
        return failed(401, PROVIDER_FAILED, "the provider sent no id token")
    issuer = str(current_app.config["OIDC_ISSUER"])
    try:
        subject = signon.subject_of(claims)
        refused = throttled(subject, address)
        if refused is not None:
            return refused
        user = signon.user_for_claims(issuer, claims)
    except signon.SignOnRefused as exc:
        return failed(exc.status, exc.message, exc.reason, str(claims.get("sub") or ANONYMOUS))
    limits.forget_sign_in_failures(subject, address)
    mfa = bool(current_app.config["OIDC_TRUST_MFA"]) and signon.multi_factor(claims)
    log.info("%s signed on from %s (multi-factor: %s)", user.username, address, mfa)
    return finish_sign_in(user, target, via="sign-on", second_factor_done=mfa)
