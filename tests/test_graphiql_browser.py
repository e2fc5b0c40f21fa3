"""GraphiQL in a real browser (Debian's chromium), with every request to anywhere but the server blocked;
axe-core checks the page's chrome at a desk's and a phone's width."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Route, sync_playwright

from tests.accessibility import serious_violations, serve_axe
from tests.server import ROOT, Server, running_server
from weights import DEFAULT_EMBEDDER

SCREENSHOT = ROOT / "test-output" / "graphiql.png"
QUERY = "{ model { name defaultThreshold } }"


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("the browser test needs Chromium: `apt-get install chromium` (Debian), or run .ci/run as root")
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("graphiql")) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield browser
        browser.close()


def test_graphiql_works_offline(server: Server, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    blocked: list[str] = []

    def only_the_server(route: Route) -> None:
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_server)
    # What a user would type in the Headers and query panes (GraphiQL keeps both in the tab's sessionStorage).
    context.add_init_script(
        f"sessionStorage.setItem('graphiql:headers', JSON.stringify({{Authorization: 'Bearer {server.key}'}}));"
        f"sessionStorage.setItem('graphiql:query', {QUERY!r});"
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server.url}/graphql")
    page.wait_for_selector(".graphiql-container", timeout=30_000)

    page.click(".graphiql-execute-button")
    result = page.locator(".result-window")
    result.get_by_text("defaultThreshold").wait_for(timeout=30_000)
    assert DEFAULT_EMBEDDER in result.inner_text()

    page.click('[aria-label="Show Documentation Explorer"]')
    page.get_by_text("Query", exact=True).first.click()
    docs = page.locator(".graphiql-doc-explorer")
    docs.get_by_text("verifyLinear").first.wait_for(timeout=10_000)
    docs.get_by_text("verifyLinear").first.click()
    docs.get_by_text("Who is this?").first.wait_for(timeout=10_000)

    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))

    # The explorer plugin lists the root fields to click a query together.
    page.click('[aria-label="Show GraphiQL Explorer"]')
    page.locator(".graphiql-explorer-root").get_by_text("recognizeFaces").first.wait_for(timeout=10_000)
    context.close()
    assert blocked == [], f"the page asked for files elsewhere: {blocked}"
    assert errors == []
    assert Path(SCREENSHOT).stat().st_size > 10_000


def test_graphiql_fetches_the_schema_again_once_a_key_is_typed(server: Server, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{server.url}/graphql")
    page.wait_for_selector(".graphiql-container", timeout=30_000)
    page.click('[aria-label="Show Documentation Explorer"]')
    docs = page.locator(".graphiql-doc-explorer")
    docs.get_by_text("Error fetching schema").wait_for(timeout=10_000)  # the placeholder key is refused
    # The user pastes a key into the Headers pane (its CodeMirror editor), and nothing else.
    page.evaluate(
        "(key) => document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror').CodeMirror"
        ".setValue(JSON.stringify({Authorization: 'Bearer ' + key}))",
        server.key,
    )
    docs.get_by_text("Query", exact=True).first.wait_for(timeout=10_000)  # the schema, without a re-fetch click
    # Kept in this tab only: a new tab opens without it.
    saved = "(key) => (sessionStorage.getItem('graphiql:tabState') || '').includes(key)"  # GraphiQL's tabs keep it
    page.wait_for_function(saved, arg=server.key, timeout=5_000)
    assert page.evaluate("Object.keys(localStorage)") == []
    context.close()


# GraphiQL's editors are CodeMirror's (a hidden textarea under each pane, line-number gutters): the
# third-party editor itself is left out; everything around it, the page's own chrome, is audited.
EDITORS = (".CodeMirror",)


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)], ids=["1366", "390"])
def test_graphiql_chrome_passes_axe(server: Server, browser: Browser, width: int, height: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": height})
    serve_axe(context, server.url)
    context.add_init_script(
        f"sessionStorage.setItem('graphiql:headers', JSON.stringify({{Authorization: 'Bearer {server.key}'}}));"
    )
    page = context.new_page()
    page.goto(f"{server.url}/graphql")
    page.wait_for_selector(".graphiql-container", timeout=30_000)
    page.click('[aria-label="Show Documentation Explorer"]')
    page.locator(".graphiql-doc-explorer").get_by_text("Query", exact=True).first.wait_for(timeout=10_000)
    page.screenshot(path=str(SCREENSHOT.with_name(f"graphiql-{width}.png")))
    assert serious_violations(page, server.url, EDITORS) == []
    context.close()
