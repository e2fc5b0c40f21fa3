"""axe-core's accessibility rules, run in the page under test (the npm package of conformance/).

The script is served to the page as if from the server under test (a Playwright route), so
the page's own Content-Security-Policy (scripts from 'self' only) is left as it is.
"""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page

from tests.server import ROOT

AXE = ROOT / "conformance" / "node_modules" / "axe-core" / "axe.min.js"
AXE_PATH = "/__axe-core__.js"
FAILING = ("critical", "serious")  # the impacts a page must have none of


def serve_axe(context: BrowserContext, origin: str) -> None:
    """Answer `origin`/__axe-core__.js with axe-core (registered last, this route is tried first)."""
    assert AXE.is_file(), f"axe-core is missing: {AXE} (make test runs npm ci in conformance/)"
    context.route(f"{origin}{AXE_PATH}", lambda route: route.fulfill(path=AXE, content_type="text/javascript"))


def serious_violations(page: Page, origin: str, exclude: tuple[str, ...] = ()) -> list[str]:
    """The page's critical and serious violations as it is now, one line each (rule, what, where)."""
    if not page.evaluate("() => 'axe' in window"):
        page.add_script_tag(url=f"{origin}{AXE_PATH}")
    found = page.evaluate(
        "(exclude) => axe.run({ exclude: exclude.map((selector) => [selector]) }, { resultTypes: ['violations'] })",
        list(exclude),
    )
    return [
        f"{rule['id']} ({rule['impact']}): {rule['help']} at {[node['target'] for node in rule['nodes']][:4]}"
        for rule in found["violations"]
        if rule["impact"] in FAILING
    ]
