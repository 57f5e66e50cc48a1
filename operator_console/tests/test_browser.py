"""The console in a real headless Chromium (Debian's), driven by Playwright.

An operator signs in, filters the review queue, opens an item and approves it, bulk-rejects
two with confirmation, and opens analytics, where the charts render. Screenshots are kept in
``test-artifacts/``. Skipped, saying so, where Chromium is not installed (CI installs it).
"""

from __future__ import annotations

import os
import shutil
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections

from recommendations.models import Recommendation
from tests.support.factories.accounts import DEFAULT_PASSWORD, OperatorFactory

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"
    ),
    # serialized_rollback: the flush after a transactional test would empty the catalog the
    # data migration seeded, for every test after this one.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def browser_page():
    playwright_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # between browser steps are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            yield page
        finally:
            browser.close()
            # The test's ORM calls ran beside Playwright's event loop, on a connection of
            # their own: close it, or dropping the test database at the end finds it open.
            connections.close_all()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def ensure_catalog() -> None:
    """Transactional tests end with a flush that empties every table, the catalog seeded by
    the data migration included: put it back with the migration's own function."""
    import importlib

    from django.apps import apps

    from recommendations.models import EducationItem
    from recommendations.selectors import catalog_changed

    if not EducationItem.objects.exists():
        importlib.import_module("recommendations.migrations.0002_seed_catalog").seed(apps, None)
        catalog_changed()


def decide(page: Any, reason_field: str, button: str, reason: str) -> None:
    """Give a decision's reason, confirm it, and wait for the console's message."""
    page.fill(reason_field, reason)
    page.click(button)
    page.wait_for_selector(".messagelist")


def decided(status: str, reason: str) -> int:
    return Recommendation.objects.filter(status=status, decision_reason=reason).count()


def test_operator_reviews_and_reads_analytics(live_server, browser_page) -> None:
    ensure_catalog()
    call_command("seed_demo", "--users", "3", "--seed", "11", stdout=StringIO())
    operator = OperatorFactory.create(email="ops@example.com")
    pending = Recommendation.objects.filter(status="pending").count()
    assert pending >= 6  # enough to approve one and bulk-reject two
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser_page

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", operator.email or "")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#console-shortcuts")

    page.click("text=Review queue (pending)")
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list tbody tr").count() == pending  # one page (100 a page)
    page.click("#changelist-filter >> text=Partner offer")
    page.wait_for_selector("#result_list")
    offers = page.locator("#result_list tbody tr").count()
    assert offers == Recommendation.objects.filter(status="pending", type="partner_offer").count()
    page.goto(f"{live_server.url}/admin/recommendations/recommendation/?status__exact=pending")

    page.locator("#result_list tbody tr th a").first.click()
    page.wait_for_selector("text=Chosen for the")
    page.screenshot(path=str(ARTIFACTS / "operator-recommendation.png"), full_page=True)
    decide(page, "#approve-form input[name=reason]", "#approve-button", "Accurate and relevant.")
    assert decided("approved", "Accurate and relevant.") == 1

    checkboxes = page.locator("#result_list tbody input.action-select")
    checkboxes.nth(0).check()
    checkboxes.nth(1).check()
    page.select_option("select[name=action]", "reject_selected")
    page.click("button[name=index]")
    page.wait_for_selector("#confirm-bulk")
    decide(page, "input[name=reason]", "#confirm-bulk", "Duplicate of another item.")
    assert decided("rejected", "Duplicate of another item.") == 2

    page.goto(f"{live_server.url}/admin/")
    page.click("#analytics-link")
    page.wait_for_selector("svg.chart")
    assert page.locator("svg.chart").count() == 5
    assert page.locator("svg.chart rect").count() > 0
    page.screenshot(path=str(ARTIFACTS / "operator-analytics.png"), full_page=True)
