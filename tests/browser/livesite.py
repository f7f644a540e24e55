"""The live site and browser windows the browser tests use: axe checks, screenshots, keys."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Response

from casework.extensions import db
from casework.models import Case, User
from casework.services import firing, loading, opening

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
#: axe-core, as the axe-playwright-python package ships it.
AXE_PATH = Path(str(files("axe_playwright_python") / "axe.min.js"))

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary),
  }));
}"""


@dataclass
class Site:
    """The running server and its demo library."""

    app: Flask
    base_url: str
    passwords: dict[str, str]

    def open_case(self, username: str, workflow: str, **fields: Any) -> str:
        """Open a case directly (setting the scene for a test), as `username`."""
        with self.app.app_context():
            actor = self._user(username)
            case = opening.open_case(actor, workflow, fields)
            db.session.commit()
            return case.number

    def fire(self, username: str, number: str, trigger: str, **fields: Any) -> None:
        with self.app.app_context():
            actor = self._user(username)
            loaded = loading.load_case(actor, number, write=True)
            firing.fire(actor, loaded, trigger, loaded.case.version, fields)
            db.session.commit()

    def state(self, number: str) -> tuple[str, int]:
        with self.app.app_context():
            row = db.session.execute(
                sa.select(Case.state, Case.version).where(Case.number == number)
            ).one()
            db.session.rollback()
            return row[0], row[1]

    def last_event(self, number: str) -> tuple[str, str]:
        from casework.models import Event

        with self.app.app_context():
            row = db.session.execute(
                sa.select(Event.action, Event.actor)
                .join(Case, Case.id == Event.case_id)
                .where(Case.number == number)
                .order_by(Event.seq.desc())
                .limit(1)
            ).one()
            db.session.rollback()
            return row[0], row[1]

    def person_id(self, name: str) -> int:
        from casework.models import Person

        with self.app.app_context():
            found: int = db.session.execute(
                sa.select(Person.id).where(Person.name == name)
            ).scalar_one()
            db.session.rollback()
            return found

    def _user(self, username: str) -> User:
        found: User = db.session.execute(
            sa.select(User).where(User.username == username)
        ).scalar_one()
        return found


@dataclass
class Tab:
    """One browser window with its own cookies; every page it opens is checked."""

    site: Site
    context: BrowserContext
    page: Page
    name: str
    shots: int = 0
    problems: list[str] = field(default_factory=list)
    #: The last page the window was sent by the server (its HTML as sent, before any script).
    document: Response | None = None

    @classmethod
    def open(
        cls,
        site: Site,
        browser: Browser,
        name: str,
        *,
        width: int = 1280,
        height: int = 900,
        javascript: bool = True,
    ) -> Tab:
        context = browser.new_context(
            base_url=site.base_url,
            viewport={"width": width, "height": height},
            java_script_enabled=javascript,
        )
        # Injected by the browser itself, so the pages' policy (no inline scripts) still holds.
        context.add_init_script(path=str(AXE_PATH))
        page = context.new_page()
        page.set_default_timeout(10_000)
        tab = cls(site, context, page, re.sub(r"[^\w-]+", "_", name)[:80])
        page.on("console", tab._console)
        page.on("pageerror", lambda exc: tab.problems.append(f"script error: {exc}"))
        page.on("response", tab._response)
        return tab

    def _response(self, response: Response) -> None:
        if (
            response.request.is_navigation_request()
            and response.frame == self.page.main_frame
            and not 300 <= response.status < 400
        ):
            self.document = response

    def _console(self, message: Any) -> None:
        # An error page's own status is expected (each test checks it); anything else is not.
        if (
            message.type == "error"
            and "the server responded with a status of 4" not in message.text
        ):
            self.problems.append(f"console: {message.text}")

    def close(self) -> None:
        self.context.close()

    # --- checks ---------------------------------------------------------------------------

    def check(self, label: str) -> None:
        """axe-core finds nothing, the policy blocked nothing; a screenshot is kept."""
        self.page.wait_for_load_state("load")
        self.shots += 1
        slug = re.sub(r"[^\w-]+", "_", label)
        path = ARTIFACTS / f"{self.name}-{self.shots:02d}-{slug}.png"
        self.page.screenshot(path=str(path), full_page=True)
        # The HTML beside it, for the W3C HTML checker CI runs over every page opened.
        html = self.document.text() if self.document is not None else self.page.content()
        path.with_suffix(".html").write_text(html, encoding="utf-8")
        violations = self.page.evaluate(AXE_RUN)
        assert violations == [], f"{label}: accessibility problems: {violations}"
        assert self.problems == [], f"{label}: {self.problems}"

    def goto(self, path: str, label: str | None = None, status: int = 200) -> None:
        response = self.page.goto(path)
        assert response is not None and response.status == status, (
            path,
            response and response.status,
        )
        self.check(label or path)

    def text(self) -> str:
        return " ".join(self.page.inner_text("main").split())

    # --- the keyboard alone ---------------------------------------------------------------

    def focused(self, selector: str) -> bool:
        return bool(
            self.page.locator(selector).evaluate_all("els => els.includes(document.activeElement)")
        )

    def tab_to(self, selector: str, limit: int = 200) -> None:
        """Press Tab until `selector` has the focus (it must be reachable by keyboard)."""
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            if self.focused(selector):
                return
        raise AssertionError(f"{selector} cannot be reached with the Tab key")

    def type_into(self, selector: str, text: str) -> None:
        self.tab_to(selector)
        self.page.keyboard.type(text)

    def choose(self, selector: str, value: str, limit: int = 60) -> None:
        """Pick an option of a select (or a radio of a group) with the arrow keys."""
        self.tab_to(selector)
        for _ in range(limit):
            current = self.page.evaluate(
                "() => { const e = document.activeElement;"
                " return [e.type === 'radio' ? (e.checked ? e.value : null) : e.value, e.value]; }"
            )
            if current[0] == value:
                return
            if current[1] == value:  # a radio button reached but not yet checked
                self.page.keyboard.press("Space")
                continue
            self.page.keyboard.press("ArrowDown")
        raise AssertionError(f"{value} cannot be chosen in {selector} with the arrow keys")

    def press_on(self, selector: str, key: str = "Enter") -> None:
        """Focus a link or button by Tab and activate it, waiting for the page it opens."""
        self.tab_to(selector)
        with self.page.expect_navigation():
            self.page.keyboard.press(key)

    def sign_in(self, username: str) -> None:
        """Sign in with the keyboard alone."""
        self.page.goto("/sign-in")
        self.type_into("#username", username)
        self.type_into("#password", self.site.passwords[username])
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")
        assert "/sign-in" not in self.page.url, self.text()
