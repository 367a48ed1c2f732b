"""The built site in a real browser: headless Chromium from Debian, driven by Playwright.

Under CI=true these tests must run; elsewhere a missing Chromium skips them with one line saying
what to install. A failing test leaves a screenshot in _build/test-artifacts/.
"""

import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path

import pytest

from grader.rubric import LESSONS
from tests.conftest import ARTIFACTS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium as root in a sandbox without network: no sandboxing of its own, no background traffic.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
LESSON_PAGES = [f"{lesson.page}.html" for lesson in LESSONS]
MINIMUM_CONTRAST = 4.5  # WCAG AA for normal text

pytestmark = pytest.mark.browser

CONTRAST_SCRIPT = """(block) => {
  const channels = (css) => css.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const luminance = (rgb) => {
    const [r, g, b] = rgb.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = luminance(channels(getComputedStyle(block).backgroundColor));
  const pre = block.querySelector('pre');
  let worst = { ratio: 99, token: '' };
  for (const element of [pre, ...pre.querySelectorAll('span')]) {
    if (element !== pre && element.textContent.trim() === '') continue;  // whitespace tokens show no colour
    const text = luminance(channels(getComputedStyle(element).color));
    const ratio = (Math.max(text, background) + 0.05) / (Math.min(text, background) + 0.05);
    if (ratio < worst.ratio) worst = { ratio, token: element.className || 'pre' };
  }
  return worst;
}"""


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = "Chromium fehlt für die Browsertests: Installieren Sie es mit 'apt-get install chromium'."
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def base_url(site):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context()
    page = context.new_page()
    page.errors = []
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
    context.close()


def test_every_page_loads_without_console_errors(page, base_url, site):
    names = sorted(path.relative_to(site).as_posix() for path in site.glob("*.html"))
    assert set(LESSON_PAGES) <= set(names)
    for name in names:
        response = page.goto(f"{base_url}/{name}")
        page.wait_for_load_state("networkidle")
        assert response.ok, name
        assert page.errors == [], name


def first_solution(page):
    return page.locator(".dropdown.admonition").first


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.page)
def test_solution_hidden_until_toggled(page, base_url, lesson):
    page.goto(f"{base_url}/{lesson.page}.html")
    solution = first_solution(page)
    code = solution.locator("div.highlight").first
    assert solution.locator(".admonition-title").inner_text().startswith("Lösung anzeigen")
    assert code.is_hidden()
    solution.locator("button.toggle-button").click()
    code.wait_for(state="visible")
    assert "def " in code.inner_text()
    solution.locator("button.toggle-button").click()
    code.wait_for(state="hidden")


def test_printing_opens_the_solutions(page, base_url):
    page.goto(f"{base_url}/checkpoints.html")
    code = first_solution(page).locator("div.highlight")
    page.emulate_media(media="print")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    code.wait_for(state="visible")
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    code.wait_for(state="hidden")


def test_german_search_finds_the_lesson(page, base_url):
    page.goto(f"{base_url}/search.html?q=Optimierer")
    page.wait_for_selector("#search-results ul li a")
    links = [link.get_attribute("href") for link in page.locator("#search-results ul li a").all()]
    assert any(link.startswith("checkpoints.html") for link in links), links


@pytest.mark.parametrize("name", LESSON_PAGES)
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_code_is_readable_in_both_modes(page, base_url, theme, name):
    page.goto(f"{base_url}/{name}")
    page.evaluate(f"localStorage.setItem('theme', '{theme}')")
    page.reload()
    assert page.evaluate("document.body.dataset.theme") == theme
    blocks = page.locator("div.highlight")
    assert blocks.count() > 3
    for index in range(blocks.count()):
        if not blocks.nth(index).is_visible():
            continue
        worst = blocks.nth(index).evaluate(CONTRAST_SCRIPT)
        assert worst["ratio"] >= MINIMUM_CONTRAST, f"Codeblock {index}, Token {worst['token']}: {worst['ratio']:.2f}"


# English strings of the theme and its extensions that a reader could see or a screen reader could
# announce. Code (pre, code) is English on purpose and not searched.
ENGLISH_UI_WORDS = [
    "Next", "Previous", "Made with", "Back to top", "Skip to content", "Copy", "Copied", "Search", "Contents",
    "Hide", "Show", "Toggle", "Light mode", "Dark mode", "Auto light", "On this page", "Click to", "Link to",
    "View this page", "Edit this page", "Home", "sidebar", "Please activate", "Searching", "Preparing search",
    "did not match", "Failed to copy", "Expand", "Collapse", "Table of contents",
]
ENGLISH_UI_PATTERN = re.compile(r"\b(" + "|".join(re.escape(word) for word in ENGLISH_UI_WORDS) + r")\b")

COLLECT_UI_TEXT_SCRIPT = """() => {
  const found = [document.title];
  const skip = (node) => node.parentElement && node.parentElement.closest('pre, code, script, style');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!skip(node) && node.textContent.trim()) found.push(node.textContent.trim());
  }
  found.push(document.body.innerText);
  const attributes = ['aria-label', 'title', 'alt', 'placeholder', 'data-tooltip', 'data-toggle-hint'];
  for (const element of document.querySelectorAll('*')) {
    for (const name of attributes) {
      const value = element.getAttribute(name);
      if (value) found.push(value);
    }
  }
  return found;
}"""


def english_ui_words(texts):
    """Every English UI word in ``texts``, with the text it stands in."""
    return sorted({(match, text[:80]) for text in texts for match in ENGLISH_UI_PATTERN.findall(text)})


def test_the_english_check_finds_furos_default_strings():
    """The browser check below would fail on an untranslated furo page."""
    furo_defaults = ["Next", "Previous", "Made with Sphinx and @pradyunsg's Furo", "Back to top", "Skip to content",
                     "Toggle Light / Dark / Auto color theme", "Copy to clipboard", "Copied!", "On this page",
                     "Toggle site navigation sidebar", "Contents", "Light mode", "Dark mode",
                     "Auto light/dark, in light mode", "Link to this heading", "Click to show"]
    assert [word for word, _ in english_ui_words(furo_defaults)]
    assert all(english_ui_words([text]) for text in furo_defaults)
    assert english_ui_words(["Weiter", "Zurück", "Nach oben", "Lösung anzeigen", "Inhalt", "Checkpoint", "Optimierer",
                             "Autograder", "Trainingsdemo"]) == []


def ui_texts(page, url, theme):
    page.goto(url)
    page.evaluate(f"localStorage.setItem('theme', '{theme}')")
    page.reload()
    page.wait_for_load_state("networkidle")
    return page.evaluate(COLLECT_UI_TEXT_SCRIPT)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_page_speaks_german_in_its_ui(browser, base_url, site, theme):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        found = {}
        for name in sorted(path.relative_to(site).as_posix() for path in site.glob("*.html")):
            texts = ui_texts(page, f"{base_url}/{name}", theme)
            if page.locator(".dropdown.admonition button.toggle-button").count():
                page.locator(".dropdown.admonition button.toggle-button").first.click()  # hint "verbergen"
                texts += page.evaluate(COLLECT_UI_TEXT_SCRIPT)
            if page.locator("button.copybtn").count():
                button = page.locator("button.copybtn").first
                button.scroll_into_view_if_needed()
                page.locator("div.highlight").first.hover()
                button.click()  # the tooltip turns into the success message
                texts += page.evaluate(COLLECT_UI_TEXT_SCRIPT)
            found[name] = english_ui_words(texts)
        for query in ("Optimierer", "Wortohnetreffer"):
            page.goto(f"{base_url}/search.html?q={query}")
            page.wait_for_selector("#search-results ul li a, #search-results .search-summary:not(:empty)")
            page.wait_for_load_state("networkidle")
            found[f"search.html?q={query}"] = english_ui_words(page.evaluate(COLLECT_UI_TEXT_SCRIPT))
        assert {name: words for name, words in found.items() if words} == {}
    finally:
        context.close()
