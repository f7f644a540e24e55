"""The installed security-relevant dependencies are at least the versions with the known fixes.

pip-audit cannot reach its vulnerability database from here and would report a false pass, so the
floors are kept by hand: raise one when an advisory names a newer fixed version.
"""

from __future__ import annotations

import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

#: distribution -> (lowest safe version, why). Required ones must be installed.
FLOORS: dict[str, tuple[str, str]] = {
    "weasyprint": ("70", "the printable records' own floor (URL fetching and parsing fixes)"),
    "flask": ("3.1.1", "CVE-2025-47278: fallback secret keys were tried in the wrong order"),
    "werkzeug": ("3.0.6", "CVE-2024-49766, CVE-2024-49767: safe_join, multipart exhaustion"),
    "jinja2": ("3.1.6", "CVE-2025-27516 and CVE-2024-56201/56326: sandbox escapes"),
    "sqlalchemy": ("2.0.30", "the 2.0 line this code is written for"),
    "psycopg": ("3.2", "the 3.2 line this code is written for"),
    "flask-wtf": ("1.2", "CSRF protection as configured here"),
    "itsdangerous": ("2.2", "signing of the session cookie"),
    "argon2-cffi": ("23.1", "password hashing parameters used here"),
    "gunicorn": ("23.0", "CVE-2024-1135 and CVE-2024-6827: request smuggling"),
    "pillow": ("11.3.0", "CVE-2025-48379: heap overflow writing DDS images"),
    "fonttools": ("4.60.2", "CVE-2025-66034: arbitrary file write from a designspace file"),
}

#: Present only with some installs; checked when there.
OPTIONAL = {
    "cryptography": ("44.0.1", "CVE-2024-12797: the OpenSSL in its wheels"),
    "pydyf": ("0.11", "the PDF writer weasyprint 70 needs"),
    "urllib3": ("2.5.0", "CVE-2025-50181, CVE-2025-50182: redirects not disabled"),
    "requests": ("2.32.4", "CVE-2024-47081: .netrc credentials leaked to other hosts"),
}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_required_dependency_is_at_least_the_safe_version(name):
    floor, why = FLOORS[name]
    try:
        installed = version(name)
    except PackageNotFoundError:
        pytest.fail(f"{name} is not installed, yet Casework depends on it")
    assert Version(installed) >= Version(floor), f"{name} {installed} < {floor}: {why}"


@pytest.mark.parametrize("name", sorted(OPTIONAL))
def test_optional_dependency_if_present_is_at_least_the_safe_version(name):
    floor, why = OPTIONAL[name]
    try:
        installed = version(name)
    except PackageNotFoundError:
        return  # not part of this install: nothing of it can be exploited
    assert Version(installed) >= Version(floor), f"{name} {installed} < {floor}: {why}"


def test_a_fresh_install_cannot_pick_a_version_below_the_floor():
    """pyproject.toml's lower bounds are at least the safe floors above."""
    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    checked = 0
    for line in project["project"]["dependencies"]:
        requirement = Requirement(line)
        name = requirement.name.lower()
        if name not in FLOORS:
            continue
        lows = [Version(s.version) for s in requirement.specifier if s.operator in (">=", "==")]
        assert lows and max(lows) >= Version(FLOORS[name][0]), (str(requirement), FLOORS[name])
        checked += 1
    # Transitive ones too (Werkzeug, Jinja2, Pillow, fontTools, …): a floor not declared is a floor
    # nothing holds.
    assert checked == len(FLOORS), sorted(set(FLOORS) - declared())


ROOT = Path(__file__).parent.parent
LOCKS = ("requirements/prod.txt", "requirements/ci.txt")


def declared(*extras: str) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    return {Requirement(line).name.lower().replace("_", "-") for line in lines}


def locked(path: str) -> dict[str, tuple[Version, list[str]]]:
    """A lock file's pins: name -> (version, its hashes)."""
    text = (ROOT / path).read_text()
    # Continuation lines belong to the requirement above them.
    requirements = text.replace("\\\n", " ").splitlines()
    pins: dict[str, tuple[Version, list[str]]] = {}
    for line in requirements:
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        spec, *options = line.split(" --hash=")
        requirement = Requirement(spec.strip())
        (pinned,) = [s for s in requirement.specifier if s.operator == "=="]
        name = requirement.name.lower().replace("_", "-")
        pins[name] = (Version(pinned.version), [o.strip() for o in options])
    return pins


@pytest.mark.parametrize("path", LOCKS)
def test_the_lock_pins_every_dependency_exactly_with_hashes_and_above_the_floors(path):
    pins = locked(path)
    extras = ("test", "dev") if path.endswith("ci.txt") else ()
    assert declared(*extras) <= set(pins), sorted(declared(*extras) - set(pins))
    for name, (pinned, hashes) in pins.items():
        assert hashes and all(h.startswith("sha256:") for h in hashes), name
        floor = FLOORS.get(name) or OPTIONAL.get(name)
        if floor:
            assert pinned >= Version(floor[0]), (path, name, str(pinned), floor)
    assert set(FLOORS) <= set(pins), sorted(set(FLOORS) - set(pins))


def test_deployment_and_ci_install_the_same_versions():
    prod, ci = locked("requirements/prod.txt"), locked("requirements/ci.txt")
    assert {n: v for n, (v, _) in prod.items()} == {n: ci[n][0] for n in prod}
