"""The back office's account filter bar at 1024, 1366 and 1920 px (and a phone's 390 px) in
Chromium: every control has a visible label above it and no label wraps (it had unlabelled
ovals, and "Оплачен до" wrapped letter by letter). Screenshots in test-artifacts/web/."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.entrypoints.web.conftest import ARTIFACTS, VENDOR_OPERATOR, WebServer, log_in

CONTROLS = ("search", "filter-state", "filter-plan", "filter-edition", "filter-due")


@pytest.mark.parametrize("width", [1024, 1366, 1920, 390])
def test_the_account_filters_are_labelled_and_on_one_line_each(
    page: Page, web: WebServer, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, web, VENDOR_OPERATOR)
    page.goto(web.url("/office/accounts"))
    bar = page.locator("form.filters")
    expect(bar).to_be_visible()
    for test_id in CONTROLS:
        control = page.get_by_test_id(test_id)
        expect(control).to_be_visible()
        label = page.locator(f'label:has([data-testid="{test_id}"]) > .label-text')
        expect(label).to_be_visible()
        text_box = label.bounding_box()
        control_box = control.bounding_box()
        assert text_box is not None and control_box is not None
        line = float(label.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
        assert text_box["height"] <= line * 1.5, (test_id, text_box)  # one line
        assert text_box["y"] + text_box["height"] <= control_box["y"] + 1  # above it
        assert control_box["width"] >= 120, (test_id, control_box)  # not a squeezed oval
    for test_id in CONTROLS:  # nothing runs off the page
        box = page.get_by_test_id(test_id).bounding_box()
        assert box is not None and box["x"] + box["width"] <= width
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    bar.screenshot(path=str(ARTIFACTS / f"office-account-filters-{width}.png"))
