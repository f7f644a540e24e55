"""The public-records copy: confidential values are withheld in the data, not hidden on the page."""

from __future__ import annotations

import io

from pypdf import PdfReader
from test_pdf_records import complaint, get_pdf, pdf_text

#: Values that a public-records copy must never contain, by where they were entered.
SECRETS = {
    "description": "Wrote SECRET-DESCRIPTION-7731 about a coworker",
    "post_url": "https://social.example/secret-post-4455",
    "findings": "SECRET-FINDINGS-9902 on the page",
    "assessment": "SECRET-ASSESSMENT-1187 after review",
    "explanation": "SECRET-EXPLANATION-5521 of the decision",
    "note": "SECRET-NOTE-6604 from a phone call",
    "file": "secret-evidence-3319.txt",
}


def violation_with_secrets(api, cast) -> str:
    number: str = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["olive"],
        category="confidential_disclosure",
        description=SECRETS["description"],
        post_url=SECRETS["post_url"],
        platform="Facebook",
    )["number"]
    api.ok("director", number, "inspect", cause="A staff report.", findings=SECRETS["findings"])
    api.ok("director", number, "review", assessment=SECRETS["assessment"])
    api.ok(
        "director",
        number,
        "dismiss",
        reason="protected_communication",
        explanation=SECRETS["explanation"],
    )
    api.post(f"/cases/{number}/notes", "director", json={"text": SECRETS["note"]})
    api.post(
        f"/cases/{number}/attachments",
        "director",
        data={"file": (io.BytesIO(b"evidence"), SECRETS["file"])},
        content_type="multipart/form-data",
    )
    return number


def everything_in(content: bytes) -> str:
    """All the text a reader could get at: the pages, the metadata and the XMP packet."""
    reader = PdfReader(io.BytesIO(content))
    meta = reader.metadata or {}
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    return " ".join([pdf_text(content), *(str(v) for v in meta.values()), xmp])


def test_a_public_copy_withholds_every_confidential_value_and_says_why(api, cast):
    number = violation_with_secrets(api, cast)
    full = everything_in(get_pdf(api, f"/cases/{number}/record.pdf", "director"))
    public = everything_in(get_pdf(api, f"/cases/{number}/record.pdf?redacted=1", "director"))
    for name, secret in SECRETS.items():
        assert secret in full, name
        assert secret not in public, name
    assert "Olive Outsider" in full and "Olive Outsider" not in public
    assert "E-olive" not in public
    # Each withholding gives its reason and legal authority; a confidential case's free text
    # (the transition's `cause` included) is all withheld, as personnel record.
    assert "[withheld: personnel record, Ohio R.C. 149.43(A)(1)]" in public
    assert "[withheld: free text, not reviewed for release]" not in public
    assert "A staff report." in full and "A staff report." not in public
    assert f"{number} · public-records copy" in public
    assert "Public-records copy." in public
    # What the workflow does not mark confidential and is not free text stays.
    for kept in ("Protected by the U.S. or Ohio Constitution", number):
        assert kept in public, kept


def test_patron_identity_is_withheld_from_a_complaints_public_copy(api):
    number = complaint(api, branch="Main Library")
    api.ok("librarian", number, "engage", response="Called back and apologised.")
    public = pdf_text(get_pdf(api, f"/cases/{number}/record.pdf?redacted=1", "librarian"))
    assert "Zelda Quux-Patron" not in public
    assert "[withheld: patron record, Ohio R.C. 149.432]" in public
    assert "Called back and apologised." in public
    assert "Story time was cancelled without notice" in public


def test_a_referred_posts_author_is_withheld_as_the_complaints_patron(api, cast):
    account = api.open(
        "social",
        "account",
        platform="facebook",
        handle="@library",
        branch="Main Library",
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
        post_url="https://social.example/p/1",
        author="Quentin Quibble-Author",
        content="Your hours are terrible",
        is_complaint="yes",
    )["number"]
    referred = api.ok("social", post, "refer")
    opened = [n for n in referred["links"] if n.startswith("CMP-")][0]
    public = pdf_text(get_pdf(api, f"/cases/{opened}/record.pdf?redacted=1", "librarian"))
    assert "Quentin Quibble-Author" not in public
    assert post in public
