"""Browser pages: what chromium does after a script-rendered page loads, from a site definition.

`wait_for` first (the script has filled the page), then the definition's actions in order:
click a button when it is there ("show phone"), wait for an element, scroll to the bottom to load
more, pause. Nothing types into a page, submits a form or logs in; the definition's validation
refuses such actions on load.
"""

from __future__ import annotations

from crawler.sites import Browser, BrowserAction


async def click_if_present(page, selector: str, timeout_ms: float) -> bool:
    """Click the first element matching `selector`; a page without it is left as it is (the phone
    may already show). Waits for what the click loads."""
    element = await page.query_selector(selector)
    if element is None:
        return False
    await element.click(timeout=timeout_ms)
    return True


async def wait_if_coming(page, selector: str, timeout_ms: float) -> bool:
    """Wait for `selector` up to the timeout; a page where it never comes is read as it is
    (the strict readiness check is the definition's own `wait_for`)."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    try:
        await page.wait_for_selector(selector, timeout=timeout_ms)
        return True
    except PlaywrightTimeout:
        return False


async def scroll_to_bottom(page, times: int, pause_ms: float = 300) -> None:
    """Scroll to the end `times` times, pausing for what each scroll loads; stops once the page stops growing."""
    height = await page.evaluate("document.body.scrollHeight")
    for _ in range(times):
        await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        await page.wait_for_timeout(pause_ms)
        grown = await page.evaluate("document.body.scrollHeight")
        if grown == height:
            break
        height = grown


def page_methods(browser: Browser, kind: str) -> list:
    """scrapy-playwright page methods for a `kind` ('listing' or 'detail') page of a definition."""
    from scrapy_playwright.page import PageMethod

    timeout_ms = browser.timeout_s * 1000
    methods = [PageMethod("wait_for_selector", browser.wait_for, timeout=timeout_ms)]
    for action in getattr(browser.actions, kind):
        methods.append(_method(action, timeout_ms, PageMethod))
    return methods


def _method(action: BrowserAction, timeout_ms: float, PageMethod):
    if action.click is not None:
        return PageMethod(click_if_present, action.click.for_browser(), timeout_ms)
    if action.wait_for is not None:
        return PageMethod(wait_if_coming, action.wait_for.for_browser(), timeout_ms)
    if action.scroll is not None:
        return PageMethod(scroll_to_bottom, action.scroll)
    return PageMethod("wait_for_timeout", action.wait_ms)
