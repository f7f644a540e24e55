"""Configuration defaults, overridden by `CASEWORK_*` environment variables."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from casework.paths import resource_dir

#: Settings a deployment may change; every one can be set as `CASEWORK_<NAME>`.
DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,  # SQLite file in the instance folder when unset
    "SECRET_KEY": None,  # read from instance/secret_key when unset
    "TIMEZONE": "America/New_York",
    "MAX_UPLOAD_MB": 10,
    "WORKFLOWS_DIR": None,  # the bundled workflows/ folder when unset
    "LIBRARY_NAME": "Portsmouth Public Library",
    # The branches and departments staff choose from (comma separated); "" lets them type any.
    "BRANCHES": (
        "Main Library, Wheelersburg Branch, New Boston Branch, Lucasville Branch, "
        "South Webster Branch, Administration, Community Relations"
    ),
    "HOLIDAYS_COUNTRY": "US",
    "HOLIDAYS_SUBDIVISION": "OH",
    "CLOSURES": "",  # extra closure days, comma separated ISO dates
    # Business days between a disposal certificate (RC-3) and the disposal it announces.
    "DISPOSAL_WAIT_BUSINESS_DAYS": 15,
    "BASE_URL": "http://127.0.0.1:5000",
    "SMTP_URL": None,  # smtp://user:pass@host:587?starttls=1 (or smtps://); unset: mail waits
    "MAIL_FROM": "Casework <casework@localhost>",
    "MAIL_MAX_ATTEMPTS": 12,  # tries before a message is marked failed
    "MAIL_RETRY_SECONDS": 60,  # first wait after a failed try; doubles each time, up to 4 hours
    "PER_PAGE_MAX": 200,
    # The audit log's signing key: a file outside the database (`casework init` makes it).
    "SIGNING_KEY_FILE": None,  # instance/log_signing_key when unset
    "LOG_ORIGIN": None,  # the log's name in its checkpoints; chosen by `casework init` when unset
    "LOG_PUBLIC_KEY": None,  # where the signing key is not at hand: the key `audit key` prints
    "WITNESS_EMAILS": "",  # comma separated; unset: every active trustee with an address
    "WITNESS_DIR": None,  # a folder (another mount, another host) each checkpoint is written to
    "WITNESS_MAIL_HOURS": 24,  # checkpoints are e-mailed at most this often
    "METRICS_TOKEN": None,  # lets a scraper off this host read /metrics (loopback always may)
    "LOG_FORMAT": "text",  # "json": one JSON object per log line, for log collectors
    # Limits (README "Limits"): each refusal says which limit was reached and changes nothing.
    "NOTE_MAX_CHARS": 4_000,  # one note
    "NOTES_PER_CASE": 500,  # notes on one case
    "NOTE_TEXT_PER_CASE": 200_000,  # characters of all the notes on one case together
    "WRITES_PER_MINUTE": 120,  # changes (forms sent, API writes) one user makes in a minute
    "REPORTS_PER_HOUR": 10,  # violation reports one user files in an hour
    "SIGN_IN_FAILURES": 5,  # failed sign-ins for one name from one address, per window
    "SIGN_IN_FAILURES_PER_ADDRESS": 50,  # failed sign-ins from one address, any names, per window
    "SIGN_IN_WINDOW_MINUTES": 15,
    # Signing in (README "Two-factor sign-in", "API tokens", "Sessions").
    "SECOND_FACTOR_ROLES": "director,hr,trustee,admin",  # must use an authenticator app; "" none
    "TOTP_ISSUER": None,  # the name authenticator apps show; LIBRARY_NAME when unset
    "TOKEN_DAYS": 90,  # an API token's lifetime unless `users token --days` says otherwise
    "SESSION_IDLE_MINUTES": 480,  # a session unused this long ends
    "SESSION_IDLE_MINUTES_PERSONNEL": 30,  # ... for roles that read personnel records
    "SESSION_PERSONNEL_ROLES": "director,hr,trustee",
    "SESSION_LIFETIME_HOURS": 12,  # a session ends this long after signing in, however busy
    "MAIL_BURST": 5,  # e-mails one person is sent one by one within MAIL_GATHER_MINUTES; then
    "MAIL_GATHER_MINUTES": 10,  # the rest wait for the window's end and go as one e-mail
    "LOCK_TIMEOUT": 5,  # seconds a write waits for the database's write lock before a 503
    "PRINT_TIME_LIMIT": 25,  # seconds one PDF render may take
    "BOARD_REPORT_SMALLEST_COUNT": 3,  # violation counts below it (but not 0) show as "fewer than"
    # A TOML file of [[authority]] code/label: what a withholding may cite (bundled Ohio list).
    "WITHHOLDING_AUTHORITIES_FILE": None,
    # Single sign-on (README "Single sign-on"): all three of issuer, client id and secret, or none.
    "OIDC_ISSUER": None,  # e.g. https://login.microsoftonline.com/TENANT-ID/v2.0
    "OIDC_CLIENT_ID": None,
    "OIDC_CLIENT_SECRET": None,
    "OIDC_SCOPES": "openid email profile",
    "OIDC_BUTTON_LABEL": "Sign in with your library account",
    "OIDC_TRUST_MFA": False,  # the provider's `amr` claim says whether a sign-on was multi-factor
    "OIDC_TIMEOUT": 10,  # seconds Casework waits for the provider
    "LOCAL_PASSWORDS": True,  # off: only the break-glass administrators sign in with a password
    "BREAK_GLASS": "",  # comma separated user names of administrators who keep their password
}

#: The settings single sign-on needs, all together.
SIGN_ON_SETTINGS = ("OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET")

SECRET_KEY_FILE = "secret_key"


class ConfigurationError(ValueError):
    """A setting, or a combination of settings, Casework cannot start with."""


def flag(value: Any) -> bool:
    """A yes/no setting: true/false, 1/0, yes/no, on/off (any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    text = str(value or "").strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off", "none"):
        return False
    raise ConfigurationError(f"{value!r} is not a yes/no value (use true or false).")


def names(value: Any) -> frozenset[str]:
    """A comma separated list of user names, lower-cased."""
    return frozenset(n.strip().lower() for n in str(value or "").split(",") if n.strip())


def branch_list(value: Any) -> tuple[str, ...]:
    """The configured branches and departments, in order: a comma separated string or a list.

    Raises `ConfigurationError` for a name that is too long or holds control characters.
    """
    items = value if isinstance(value, list | tuple) else str(value or "").split(",")
    out: list[str] = []
    for item in items:
        name = " ".join(str(item).split())
        if not name:
            continue
        if len(name) > 200 or not name.isprintable():
            raise ConfigurationError(f"CASEWORK_BRANCHES: {name[:40]!r} is not a branch name.")
        if name not in out:
            out.append(name)
    return tuple(out)


def sign_on_configured(config: dict[str, Any]) -> bool:
    return all(config.get(name) for name in SIGN_ON_SETTINGS)


def check_sign_on(config: dict[str, Any]) -> None:
    """Refuse to start with half a sign-on configuration, or with passwords off and no sign-on.

    Raises `ConfigurationError` saying which settings are missing or wrong.
    """
    given = [name for name in SIGN_ON_SETTINGS if config.get(name)]
    if given and len(given) < len(SIGN_ON_SETTINGS):
        missing = ", ".join(f"CASEWORK_{n}" for n in SIGN_ON_SETTINGS if n not in given)
        raise ConfigurationError(
            f"Single sign-on is half configured: {missing} is not set. Set CASEWORK_OIDC_ISSUER, "
            "CASEWORK_OIDC_CLIENT_ID and CASEWORK_OIDC_CLIENT_SECRET together, or none of them."
        )
    for name in ("OIDC_TRUST_MFA", "LOCAL_PASSWORDS"):
        try:
            config[name] = flag(config.get(name))
        except ConfigurationError as exc:
            raise ConfigurationError(f"CASEWORK_{name}: {exc}") from None
    if given:
        issuer = str(config["OIDC_ISSUER"]).rstrip("/")
        parts = urlsplit(issuer)
        loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise ConfigurationError(
                f"CASEWORK_OIDC_ISSUER must be an https:// address; {issuer!r} is not."
            )
        if parts.query or parts.fragment:
            raise ConfigurationError("CASEWORK_OIDC_ISSUER must have no ?query or #fragment.")
        config["OIDC_ISSUER"] = issuer
        scopes = str(config.get("OIDC_SCOPES") or "").split()
        if "openid" not in scopes:
            raise ConfigurationError("CASEWORK_OIDC_SCOPES must include openid.")
    elif not config["LOCAL_PASSWORDS"]:
        raise ConfigurationError(
            "CASEWORK_LOCAL_PASSWORDS is off but single sign-on is not configured: nobody but "
            "the break-glass administrators could sign in. Set CASEWORK_OIDC_ISSUER, "
            "CASEWORK_OIDC_CLIENT_ID and CASEWORK_OIDC_CLIENT_SECRET, or turn local passwords on."
        )


def database_url(config: dict[str, Any], instance_path: str) -> str:
    """The SQLAlchemy URL: `CASEWORK_DATABASE_URL`, or a SQLite file in the instance folder."""
    url = config.get("DATABASE_URL")
    if url:
        return str(url)
    return f"sqlite:///{Path(instance_path) / 'casework.sqlite'}"


def secret_key(config: dict[str, Any], instance_path: str) -> str:
    """The signing key: configured, else the one `casework init` stored in the instance folder.

    Without either, a random per-process key is used, which is only good for a single process
    (sign-ins do not survive a restart).
    """
    if config.get("SECRET_KEY"):
        return str(config["SECRET_KEY"])
    path = Path(instance_path) / SECRET_KEY_FILE
    if path.is_file():
        return path.read_text().strip()
    return secrets.token_hex(32)


def ensure_secret_key_file(instance_path: str) -> Path:
    """Create the instance folder's secret key file if there is none (run by `casework init`)."""
    path = Path(instance_path) / SECRET_KEY_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path


def workflows_dir(config: dict[str, Any]) -> Path:
    """The folder of workflow definition files."""
    configured = config.get("WORKFLOWS_DIR")
    return Path(configured) if configured else resource_dir("workflows")
