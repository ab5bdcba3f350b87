"""Browser journeys: a live server on a temp SQLite file, driven by Debian's chromium.

Playwright never downloads a browser here: ``browser_type_launch_args`` points it at
/usr/bin/chromium. Every page a test opens goes through ``browsing.new_page(...)``, which
collects JavaScript console errors, uncaught page errors and CSP violations; a test fails on
any of them (checked after each step and again at teardown).
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect
from werkzeug.serving import make_server

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "browser"
MO_FILE = REPO_ROOT / "crm" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.mo"

PASSWORD = "browser-journey-pass-42"  # ≥ 12 characters, as the app requires

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Runs in every frame before the page's own scripts (not subject to the page's CSP): any
# CSP violation is reported on the console, where the collector below picks it up.
CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', function (e) {
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')
    + ' at ' + (e.sourceFile || document.location.href) + ':' + e.lineNumber);
});
"""

expect.set_options(timeout=10_000)


# ---------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's chromium, headless, no network chatter; merged over pytest-playwright's args."""
    args = list(browser_type_launch_args.get("args", []))
    args += [a for a in CHROMIUM_ARGS if a not in args]
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "headless": True, "args": args}


# ---------------------------------------------------------------- live server


@dataclass
class LiveServer:
    app: Any
    url: str
    files_dir: Path

    def seed_member(self, slug: str, email: str, name: str, roles: list[str]) -> None:
        """Add an active member straight into the server's database (for journeys that need a crowd)."""
        from sqlalchemy import select

        from crm.db import db
        from tenants.context import tenant_context
        from tenants.identity import create_user
        from tenants.models import Membership, Tenant

        with self.app.app_context():
            tenant = db.session.scalars(select(Tenant).where(Tenant.slug == slug)).one()
            user = create_user(email, name, PASSWORD)
            with tenant_context(tenant, user_id=user.id):
                db.session.add(Membership(user_id=user.id, roles=list(roles)))
                db.session.flush()
            db.session.commit()

    def queue_job(self, slug: str, email: str, kind: str, params: dict[str, Any]) -> tuple[int, int]:
        """A job record left queued (as if no worker had picked it up yet); returns (tenant_id, job_id)."""
        from sqlalchemy import select

        from crm.db import db
        from tenants.context import tenant_context
        from tenants.models import Membership, Tenant, User
        from workers.models import JobRecord

        with self.app.app_context():
            tenant = db.session.scalars(select(Tenant).where(Tenant.slug == slug)).one()
            user = db.session.scalars(select(User).where(User.email == email)).one()
            with tenant_context(tenant, user_id=user.id):
                member = db.session.scalars(select(Membership).where(Membership.user_id == user.id)).one()
                job = JobRecord(kind=kind, params=params, requested_by_id=member.id)
                db.session.add(job)
                db.session.flush()
                ids = (tenant.id, job.id)
            db.session.commit()
        return ids

    def run_job(self, tenant_id: int, job_id: int) -> str:
        """Run a queued job the way a worker does."""
        from workers.runner import execute

        return execute(self.app, tenant_id, job_id)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from crm import create_app
    from crm.db import db

    tmp = tmp_path_factory.mktemp("browser-server")
    app = create_app(
        {
            "TESTING": False,
            "SECRET_KEY": "browser",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'browser.db'}",
            "RATELIMIT_ENABLED": False,
            "JOBS_INLINE": True,
            "JOBS_INLINE_MODE": "thread",
            "REDIS_URL": None,
            "FILES_DIR": tmp / "files",
            "INSTANCE_DIR": tmp,
            "MAIL_SERVER": None,  # so the members page shows the invitation link
            "FORCE_HTTPS": False,
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
        }
    )
    with app.app_context():
        db.create_all()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}", files_dir=tmp / "files")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    """pytest-playwright hands this to every browser context, so page.goto('/login') works."""
    return live_server.url


# ---------------------------------------------------------------- pages, errors, screenshots


@dataclass
class Browsing:
    """Opens contexts and pages for one test; collects their errors; saves screenshots."""

    new_context: Any
    test_name: str
    problems: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)

    def new_page(self, locale: str = "en-US", **context_args: Any) -> Page:
        context: BrowserContext = self.new_context(locale=locale, accept_downloads=True, **context_args)
        context.add_init_script(CSP_LISTENER)
        page = context.new_page()
        page.on("console", lambda msg, p=page: self._console(p, msg))
        page.on("pageerror", lambda err, p=page: self.problems.append(f"page error on {p.url}: {err}"))
        return page

    def _console(self, page: Page, msg: ConsoleMessage) -> None:
        if msg.type == "error" or "Content Security Policy" in msg.text:
            where = msg.location.get("url") if msg.location else None
            self.problems.append(f"console {msg.type} on {page.url}: {msg.text} ({where or 'no source'})")

    def check(self, page: Page | None = None) -> None:
        """No console error, page error or CSP violation so far."""
        if page is not None:
            page.wait_for_load_state("load")
        assert not self.problems, "browser reported problems:\n" + "\n".join(self.problems)

    def shot(self, page: Page, step: str, full_page: bool = True) -> Path:
        """Screenshot to test-artifacts/browser/<test-name>-<step>.png, after checking for errors."""
        self.check(page)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.test_name}-{step}.png"
        page.screenshot(path=str(path), full_page=full_page)
        self.shots.append(path)
        return path


@pytest.fixture
def browsing(new_context: Any, request: pytest.FixtureRequest) -> Iterator[Browsing]:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.originalname).strip("_")
    b = Browsing(new_context=new_context, test_name=name)
    yield b
    b.check()


# ---------------------------------------------------------------- journeys' building blocks

_seq = itertools.count(1)


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    password: str = PASSWORD


@dataclass(frozen=True)
class Workspace:
    company: str
    slug: str


def unique(prefix: str) -> str:
    """A slug-safe, run-unique suffix (the server and its database live for the whole session)."""
    return f"{prefix}-{next(_seq)}"


def new_owner(prefix: str, name: str = "Wang Jianguo") -> tuple[Person, Workspace]:
    slug = unique(prefix)
    person = Person(name=name, email=f"owner@{slug}.example.com")
    return person, Workspace(company=f"{prefix.title()} Trading Co {slug}", slug=slug)


def sign_up(page: Page, person: Person, ws: Workspace) -> None:
    """Sign up from the public form; lands on the new workspace's dashboard."""
    page.goto("/signup")
    page.locator("#company").fill(ws.company)
    page.locator("#slug").fill(ws.slug)
    page.locator("#name").fill(person.name)
    page.locator("#email").fill(person.email)
    page.locator("#password").fill(person.password)
    page.locator("form[method=post]:not([data-lang-form]) button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/w/{re.escape(ws.slug)}/$"))


def sign_in(page: Page, person: Person) -> None:
    page.goto("/login")
    page.locator("#email").fill(person.email)
    page.locator("#password").fill(person.password)
    page.locator("form[method=post]:not([data-lang-form]) button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def zh_catalog_compiled() -> bool:
    return MO_FILE.exists()


def zh(msgid: str) -> str | None:
    """The compiled Chinese translation of msgid, or None while the catalog is not compiled."""
    if not zh_catalog_compiled():
        return None
    import gettext

    with MO_FILE.open("rb") as fh:
        return gettext.GNUTranslations(fh).gettext(msgid)
