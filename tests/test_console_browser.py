"""The web console in a real browser (Debian's chromium) with a fake camera, every request elsewhere blocked.

Chromium's fake camera plays a video made from a shared photo (devdata.camera); a
person is enrolled from another photo of her, by dropping files on the page, and the
live view must draw her name. Screenshots go to test-output/ at 1280x800 and 390x844.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright

from devdata import camera
from tests.server import ROOT, Server, enrolled_person, running_server
from tests.test_graphiql_browser import chromium_path

pytestmark = pytest.mark.models

OUTPUT = ROOT / "test-output"
NAME = "Angelina Jolie"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("console")) as server:
        yield server


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    video = camera.write_y4m(tmp_path_factory.mktemp("camera") / "camera.y4m", camera.frames())
    args = [
        "--no-sandbox",
        "--use-fake-ui-for-media-stream",  # grant the camera without a prompt
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=args)
        yield browser
        browser.close()


class Offline:
    """A browser context that reaches the server and nothing else, and what it tried."""

    def __init__(self, browser: Browser, server: Server, width: int, height: int) -> None:
        self.server = server
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.context: BrowserContext = browser.new_context(viewport={"width": width, "height": height})
        self.context.route("**/*", self._only_the_server)
        self.page: Page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _only_the_server(self, route: Route) -> None:
        if route.request.url.startswith(self.server.url):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def sign_in(self) -> Page:
        page = self.page
        page.goto(f"{self.server.url}/")
        page.locator("#key-input").fill(self.server.key)
        page.get_by_role("button", name="Use key").click()
        page.locator("#page-info").get_by_text("persons").wait_for(timeout=30_000)
        return page

    def screenshot(self, name: str) -> None:
        OUTPUT.mkdir(exist_ok=True)
        path = OUTPUT / name
        self.page.screenshot(path=str(path))
        assert path.stat().st_size > 10_000

    def close(self) -> None:
        self.context.close()
        assert self.blocked == [], f"the console asked for files elsewhere: {self.blocked}"
        assert self.errors == [], self.errors


def drop_files(page: Page, selector: str, files: list[Path | tuple[str, bytes]]) -> None:
    """Drag files onto an element, as a person would from their file manager."""
    named = [(f.name, f.read_bytes()) if isinstance(f, Path) else f for f in files]
    transfer = page.evaluate_handle(
        """(files) => {
            const transfer = new DataTransfer();
            for (const [name, data] of files) {
                const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
                const type = name.endsWith(".jpg") ? "image/jpeg" : "text/plain";
                transfer.items.add(new File([bytes], name, {type}));
            }
            return transfer;
        }""",
        [[name, base64.b64encode(data).decode("ascii")] for name, data in named],
    )
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def named_live(page: Page) -> bool:
    """Whether the live view names her as a match ("unknown (nearest ...)" is a face not matched)."""
    return page.locator("#live-names li").first.inner_text().startswith(f"{NAME} (")


def test_console_enrols_by_drop_verifies_and_names_the_face_live(browser: Browser, server: Server) -> None:
    desk = Offline(browser, server, 1280, 800)
    page = desk.sign_in()

    page.get_by_placeholder("New person's name").fill(NAME)
    page.get_by_role("button", name="Create").click()
    card = page.locator(".card", has_text=NAME)
    card.get_by_role("button", name="Add photos").click()

    drop_files(page, "#drop-enrol", [camera.ENROLLED_PHOTO, ("notes.txt", b"not a photo")])
    uploads = page.locator("#uploads")
    uploads.locator("li", has_text="img1.jpg").get_by_text("enrolled").wait_for(timeout=60_000)
    uploads.locator("li", has_text="notes.txt").get_by_text("BAD_IMAGE").wait_for(timeout=60_000)
    desk.screenshot("console-enrol-1280.png")

    page.get_by_role("button", name="Persons").click()
    page.locator(".card", has_text=NAME).locator("img").first.wait_for(timeout=30_000)  # the face crop
    desk.screenshot("console-persons-1280.png")

    page.get_by_role("button", name="Verify").click()
    page.locator("#verify-file").set_input_files(str(camera.CAMERA_PHOTO))
    page.locator("#verify-results").get_by_text(NAME).wait_for(timeout=60_000)
    verdict = page.locator("#verify-results li").first
    assert verdict.locator(".ok").inner_text() == "match"  # not "no match" with her as the nearest
    assert verdict.inner_text().split("\n")[-1].startswith(f"{NAME} (")
    desk.screenshot("console-verify-1280.png")

    page.get_by_role("button", name="Live").click()
    page.get_by_role("button", name="Start camera").click()
    page.locator("#live-names").get_by_text(NAME).wait_for(timeout=60_000)
    page.locator("#live-stats").get_by_text("fps").wait_for(timeout=10_000)
    page.wait_for_timeout(1500)  # a few more frames, for the screenshot's box and rate
    assert named_live(page)
    desk.screenshot("console-live-1280.png")
    page.get_by_role("button", name="Stop").click()
    desk.close()


def test_console_renames_and_deletes_a_person(browser: Browser, server: Server) -> None:
    desk = Offline(browser, server, 1280, 800)
    page = desk.sign_in()
    page.get_by_placeholder("New person's name").fill("Temporary")
    page.get_by_role("button", name="Create").click()
    card = page.locator(".card").filter(has=page.get_by_role("heading", name="Temporary", exact=True))
    page.once("dialog", lambda dialog: dialog.accept("Dana Scully"))
    card.get_by_role("button", name="Rename").click()
    renamed = page.locator(".card").filter(has=page.get_by_role("heading", name="Dana Scully", exact=True))
    renamed.wait_for(timeout=10_000)
    page.once("dialog", lambda dialog: dialog.accept())
    renamed.get_by_role("button", name="Delete").click()
    renamed.wait_for(state="detached", timeout=10_000)
    page.get_by_placeholder("Search by name or external id").fill("angelina")
    page.get_by_role("button", name="Search").click()
    page.locator("#page-info").get_by_text("1 persons").wait_for(timeout=10_000)
    desk.close()


def test_console_fits_a_phone(browser: Browser, server: Server) -> None:
    phone = Offline(browser, server, 390, 844)
    page = phone.sign_in()
    page.locator(".card", has_text=NAME).wait_for(timeout=30_000)
    phone.screenshot("console-persons-390.png")
    page.get_by_role("button", name="Live").click()
    page.get_by_role("button", name="Start camera").click()
    page.locator("#live-names").get_by_text(NAME).wait_for(timeout=60_000)
    page.wait_for_timeout(500)
    assert named_live(page)
    phone.screenshot("console-live-390.png")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than a phone's screen"
    page.get_by_role("button", name="Stop").click()
    phone.close()


def test_console_works_in_the_collection_chosen_in_its_header(browser: Browser, server: Server) -> None:
    made = server.graphql('mutation { createCollection(input: {name: "Second floor"}) { id } }')
    floor = made["data"]["createCollection"]["id"]
    created = server.graphql(
        'mutation($c: ID) { createPerson(input: {name: "Only Upstairs"}, collection: $c) { id } }', c=floor
    )
    assert "errors" not in created, created
    enrolled_person(server, NAME, camera.ENROLLED_PHOTO)  # downstairs (default): the camera would name her there
    desk = Offline(browser, server, 1280, 800)
    page = desk.sign_in()
    page.locator(".card", has_text=NAME).first.wait_for(timeout=30_000)  # the default collection first
    page.get_by_label("Collection").select_option(label="Second floor (1 persons)")
    page.locator(".card", has_text="Only Upstairs").wait_for(timeout=10_000)
    assert page.locator(".card", has_text=NAME).count() == 0
    desk.screenshot("console-collections-1280.png")
    page.get_by_placeholder("New person's name").fill("Also Upstairs")
    page.get_by_role("button", name="Create").click()
    page.locator(".card", has_text="Also Upstairs").wait_for(timeout=10_000)
    listed = server.graphql("query($c: ID) { persons(collection: $c) { totalCount } }", c=floor)
    assert listed["data"]["persons"]["totalCount"] == 2  # created in the chosen collection
    # Live recognition searches it too: she is not enrolled upstairs.
    page.get_by_role("button", name="Live").click()
    page.get_by_role("button", name="Start camera").click()
    page.locator("#live-names li").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    assert not named_live(page)
    page.get_by_role("button", name="Stop").click()
    desk.close()
