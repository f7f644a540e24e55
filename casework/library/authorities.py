"""The legal authorities a withholding may cite: the bundled Ohio list, or the library's own.

`CASEWORK_WITHHOLDING_AUTHORITIES_FILE` names a TOML file of `[[authority]]` tables, each with a
`code` (short, stable: what the records keep) and a `label` (what the packet prints); when unset,
the list below applies. Every withholding in a release packet names one of them (R.C. 149.43(B)(3):
a denial in part cites the legal authority).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from casework.errors import CaseworkError


@dataclass(frozen=True)
class Authority:
    code: str
    label: str

    @property
    def cited(self) -> str:
        """As printed beside each withheld passage."""
        return f"{self.code}: {self.label}"


#: Ohio public-records exceptions a library commonly relies on.
DEFAULT_AUTHORITIES = (
    Authority("R.C. 149.432", "library patron records and patron information"),
    Authority("R.C. 149.43(A)(1)(a)", "medical records"),
    Authority(
        "R.C. 149.43(A)(1)(b)",
        "records pertaining to probation and parole proceedings",
    ),
    Authority("R.C. 149.43(A)(1)(h)", "confidential law enforcement investigatory records"),
    Authority("R.C. 149.43(A)(1)(j)", "trial preparation records"),
    Authority(
        "R.C. 149.43(A)(1)(p)",
        "designated public service worker residential and familial information",
    ),
    Authority(
        "R.C. 149.43(A)(1)(v)",
        "records the release of which is prohibited by state or federal law",
    ),
    Authority(
        "Attorney-client privilege",
        "R.C. 149.43(A)(1)(v); State ex rel. Leslie v. Ohio Hous. Fin. Agency, 2005-Ohio-1508",
    ),
    Authority(
        "Social Security number",
        "R.C. 149.43(A)(1)(v); State ex rel. Beacon Journal Publishing Co. v. Akron (1994)",
    ),
    Authority("R.C. 149.433", "security records and infrastructure records"),
    Authority("R.C. 149.011(G)", "not a record: does not document the library's activities"),
)


class AuthoritiesFileError(CaseworkError):
    """The configured list of authorities cannot be used (start-up and `casework` stop)."""


def load_authorities(path: Path) -> tuple[Authority, ...]:
    """The authorities a file lists; `AuthoritiesFileError` naming the file and what is wrong."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AuthoritiesFileError(f"{path}: {exc}") from None
    rows = data.get("authority")
    if not isinstance(rows, list) or not rows:
        raise AuthoritiesFileError(f"{path}: lists no [[authority]]")
    found: list[Authority] = []
    for i, row in enumerate(rows):
        code, label = row.get("code"), row.get("label")
        if not (isinstance(code, str) and code.strip() and isinstance(label, str)):
            raise AuthoritiesFileError(f"{path}: authority {i + 1} needs a code and a label")
        if set(row) - {"code", "label"}:
            raise AuthoritiesFileError(f"{path}: authority {i + 1} has an unknown key")
        if any(a.code == code.strip() for a in found):
            raise AuthoritiesFileError(f"{path}: authority {code!r} is listed twice")
        found.append(Authority(code.strip(), label.strip()))
    return tuple(found)


def authorities() -> tuple[Authority, ...]:
    """The list in force for this application (read from its file at start-up)."""
    from casework.library import library

    return library().authorities


def authority(code: str) -> Authority | None:
    return next((a for a in authorities() if a.code == code), None)
