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

from grader.rubric import LESSONS, tasks_of
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
    return page.locator(".dropdown.admonition:not(.hint)").first  # the hints before it are dropdowns too


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
    page.wait_for_function("document.querySelector('.search-summary')?.innerText.length > 0")
    assert "Seiten passen zur Suchanfrage" in page.locator(".search-summary").inner_text()
    assert page.errors == []


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


# --- Verständnisfragen (source/_ext/selbsttest.py) and graduated hints ---------------------------

# Lessons that do not have their questions and hints yet (a lesson being written); drop a lesson from
# this set as soon as it has them.
WITHOUT_SELF_CHECK_YET = set()
SELF_CHECK_LESSONS = [lesson for lesson in LESSONS if lesson.page not in WITHOUT_SELF_CHECK_YET]

# Contrast of every visible text node inside ``root`` against the background actually behind it
# (semi-transparent backgrounds are composited up to the first opaque one).
TEXT_CONTRAST_SCRIPT = """(root) => {
  const parse = (css) => {
    const v = (css.match(/[\\d.]+/g) || []).map(Number);
    return { rgb: v.slice(0, 3), alpha: v.length > 3 ? v[3] : (css.startsWith('rgba') || css === 'transparent' ? 0 : 1) };
  };
  const luminance = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (element) => {
    const layers = [];
    for (let e = element; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.alpha > 0) layers.push(c);
      if (c.alpha >= 1) break;
    }
    let rgb = [255, 255, 255];
    for (const layer of layers.reverse()) rgb = rgb.map((v, i) => v * (1 - layer.alpha) + layer.rgb[i] * layer.alpha);
    return rgb;
  };
  const results = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    if (!node.textContent.trim() || !element.checkVisibility()) continue;
    const text = luminance(parse(getComputedStyle(element).color).rgb);
    const back = luminance(background(element));
    const ratio = (Math.max(text, back) + 0.05) / (Math.min(text, back) + 0.05);
    results.push({ ratio, text: node.textContent.trim().slice(0, 40) });
  }
  return results;
}"""


def lesson_page(page, base_url, name, theme=None):
    page.goto(f"{base_url}/{name}.html")
    if theme:
        page.evaluate(f"localStorage.setItem('theme', '{theme}')")
        page.reload()
        assert page.evaluate("document.body.dataset.theme") == theme
    page.wait_for_load_state("networkidle")


def questions(page, kind=None):
    selector = ".selbsttest" if kind is None else f'.selbsttest[data-auswahl="{kind}"]'
    return page.locator(selector)


def answers_by_verdict(question):
    """(right, wrong) answer locators; the test reads the hidden verdicts, a learner never sees them."""
    answers = question.locator(".selbsttest-antwort")
    verdicts = [answers.nth(i).locator(".selbsttest-erklaerung").get_attribute("data-urteil") for i in range(answers.count())]
    assert set(verdicts) <= {"richtig", "falsch"}
    right = [answers.nth(i) for i, verdict in enumerate(verdicts) if verdict == "richtig"]
    wrong = [answers.nth(i) for i, verdict in enumerate(verdicts) if verdict == "falsch"]
    return right, wrong


def feedback(question):
    status = question.locator(".selbsttest-rueckmeldung")
    page = question.page
    page.wait_for_function("(element) => element.textContent.trim() !== ''", arg=status.element_handle())
    return status.inner_text()


def visible_explanations(question):
    return [e for e in question.locator(".selbsttest-erklaerung").all() if e.is_visible()]


def assert_nothing_revealed(question):
    """No verdict or explanation is visible, announced or referenced before the learner answers."""
    for explanation in question.locator(".selbsttest-erklaerung").all():
        assert explanation.is_hidden()
        assert explanation.get_attribute("hidden") is not None
    assert question.locator(".selbsttest-rueckmeldung").inner_text() == ""
    assert question.locator("input[aria-describedby]").count() == 0
    assert question.locator("[data-ergebnis]").count() == 0
    shown = question.inner_text() + "\n" + question.aria_snapshot()
    assert "Richtig" not in shown and "Falsch" not in shown, shown
    for explanation in question.locator(".selbsttest-erklaerung").all():
        sentence = explanation.text_content().split("Zum Nachlesen")[0].replace("Richtig.", "").replace("Falsch.", "")
        assert " ".join(sentence.split())[:40] not in " ".join(shown.split())


@pytest.mark.parametrize("lesson", SELF_CHECK_LESSONS, ids=lambda lesson: lesson.page)
def test_self_check_questions_reveal_nothing_before_answering(page, base_url, lesson):
    lesson_page(page, base_url, lesson.page)
    found = questions(page)
    assert 4 <= found.count() <= 6, f"{lesson.page}: {found.count()} Verständnisfragen statt 4–6"
    for question in found.all():
        assert question.locator("fieldset > legend").text_content().strip().startswith("Verständnisfrage")
        kind = question.get_attribute("data-auswahl")
        inputs = question.locator("input.selbsttest-eingabe")
        assert inputs.count() >= 2
        assert {inputs.nth(i).get_attribute("type") for i in range(inputs.count())} == {
            "einfach": {"radio"}, "mehrfach": {"checkbox"}}[kind]
        status = question.locator(".selbsttest-rueckmeldung")
        assert status.get_attribute("aria-live") == "polite" and status.get_attribute("role") == "status"
        right, wrong = answers_by_verdict(question)
        assert len(right) == 1 if kind == "einfach" else len(right) >= 1
        assert_nothing_revealed(question)
    assert page.errors == []


def assert_links_to_a_section(page, explanation):
    link = explanation.locator(".selbsttest-nachlesen a")
    href = link.get_attribute("href")
    assert href.startswith("#"), href
    assert page.locator(f'[id="{href[1:]}"]').count() == 1, href


@pytest.mark.parametrize("lesson", SELF_CHECK_LESSONS, ids=lambda lesson: lesson.page)
def test_single_choice_gives_right_and_wrong_feedback(page, base_url, lesson):
    lesson_page(page, base_url, lesson.page)
    assert questions(page, "einfach").count() >= 1
    for question in questions(page, "einfach").all():
        right, wrong = answers_by_verdict(question)
        check = question.locator("button.selbsttest-pruefen")
        assert check.inner_text() == "Antwort prüfen"
        question.scroll_into_view_if_needed()

        check.click()
        assert feedback(question) == "Bitte wählen Sie zuerst eine Antwort."
        assert visible_explanations(question) == []

        for answer in wrong:
            answer.locator("label").click()
            check.click()
            assert feedback(question).startswith("Leider falsch.")
            assert question.locator(".selbsttest-rueckmeldung").get_attribute("data-ergebnis") == "falsch"
            shown = visible_explanations(question)
            assert len(shown) == 1 and shown[0].inner_text().startswith("Falsch.")
            assert answer.locator("input").get_attribute("aria-describedby") == shown[0].get_attribute("id")
            assert_links_to_a_section(page, shown[0])
            assert "Richtig" not in question.locator(".selbsttest-antworten").inner_text()  # the right one stays unnamed

        right[0].locator("label").click()  # a new choice clears the old feedback
        assert visible_explanations(question) == []
        assert question.locator(".selbsttest-rueckmeldung").inner_text() == ""
        check.click()
        assert feedback(question).startswith("Richtig.")
        assert question.locator(".selbsttest-rueckmeldung").get_attribute("data-ergebnis") == "richtig"
        shown = visible_explanations(question)
        assert len(shown) == 1 and shown[0].inner_text().startswith("Richtig.")
        assert_links_to_a_section(page, shown[0])
    assert page.errors == []


@pytest.mark.parametrize("lesson", SELF_CHECK_LESSONS, ids=lambda lesson: lesson.page)
def test_multiple_choice_names_what_is_missing_and_what_is_wrong(page, base_url, lesson):
    lesson_page(page, base_url, lesson.page)
    for question in questions(page, "mehrfach").all():
        right, wrong = answers_by_verdict(question)
        check = question.locator("button.selbsttest-pruefen")
        assert check.inner_text() == "Antworten prüfen"
        question.scroll_into_view_if_needed()

        right[0].locator("input").check()
        wrong[0].locator("input").check()
        check.click()
        message = feedback(question)
        assert message.startswith("Nicht ganz: Eine Ihrer Antworten ist falsch")
        assert ("fehlt noch mindestens eine richtige" in message) == (len(right) > 1)
        assert question.locator(".selbsttest-rueckmeldung").get_attribute("data-ergebnis") == "falsch"
        verdicts = sorted(e.inner_text().split()[0] for e in visible_explanations(question))
        assert verdicts == ["Falsch.", "Richtig."]
        for explanation in visible_explanations(question):
            assert_links_to_a_section(page, explanation)

        wrong[0].locator("input").uncheck()
        if len(right) > 1:
            check.click()
            assert feedback(question).startswith("Nicht ganz: Ihre Antworten sind richtig, aber es fehlt noch")
        for answer in right:
            answer.locator("input").check()
        check.click()
        assert feedback(question).startswith("Richtig: Sie haben genau die richtigen Antworten gewählt.")
        assert question.locator(".selbsttest-rueckmeldung").get_attribute("data-ergebnis") == "richtig"
        assert len(visible_explanations(question)) == len(right)
        for answer in right:
            answer.locator("input").uncheck()
    assert page.errors == []


def test_self_check_works_with_the_keyboard_alone(page, base_url):
    lesson_page(page, base_url, "checkpoints")
    question = questions(page, "einfach").first
    inputs = question.locator("input.selbsttest-eingabe")
    check = question.locator("button.selbsttest-pruefen")
    inputs.first.focus()
    page.keyboard.press("Space")
    assert inputs.first.is_checked()
    page.keyboard.press("ArrowDown")
    assert inputs.nth(1).is_checked() and not inputs.first.is_checked()
    page.keyboard.press("Tab")  # leaves the radio group for the button
    assert check.evaluate("(element) => element === document.activeElement")
    assert check.evaluate("(element) => getComputedStyle(element).outlineStyle") != "none"  # focus is visible
    page.keyboard.press("Enter")
    assert feedback(question)
    assert len(visible_explanations(question)) == 1

    multiple = questions(page, "mehrfach").first
    boxes = multiple.locator("input.selbsttest-eingabe")
    boxes.first.focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    assert boxes.first.is_checked() and boxes.nth(1).is_checked()
    for _ in range(boxes.count() - 1):
        page.keyboard.press("Tab")
    assert multiple.locator("button.selbsttest-pruefen").evaluate("(element) => element === document.activeElement")
    page.keyboard.press("Space")
    assert feedback(multiple)
    assert len(visible_explanations(multiple)) == 2
    assert page.errors == []


@pytest.mark.parametrize("lesson", SELF_CHECK_LESSONS, ids=lambda lesson: lesson.page)
def test_two_or_three_hints_open_one_by_one_before_each_solution(page, base_url, lesson):
    lesson_page(page, base_url, lesson.page)
    before = "(button) => getComputedStyle(button, '::before').content"
    for task in tasks_of(lesson):
        section = page.locator(f"section:has(> span#aufgabe-{task.number})")
        hints = section.locator(":scope > .admonition.hint.dropdown")
        assert 2 <= hints.count() <= 3, f"Aufgabe {task.number}: {hints.count()} Hinweise"
        solution = section.locator(":scope > .dropdown.admonition:not(.hint)")
        assert solution.count() == 1
        assert solution.evaluate("(s) => s.previousElementSibling.classList.contains('hint')")  # hints come first
        for number, hint in enumerate(hints.all(), start=1):
            assert re.fullmatch(rf"Hinweis {number}: \S.*", hint.locator(".admonition-title").inner_text().strip())
            body = hint.locator(".admonition-title ~ *").first
            button = hint.locator("button.toggle-button")
            assert body.is_hidden()
            assert button.get_attribute("aria-label") == "Hinweis ein- und ausblenden"
            assert button.evaluate(before) == '"Hinweis anzeigen"'
            button.click()
            body.wait_for(state="visible")
            assert button.evaluate(before) == '"Hinweis verbergen"'
            assert all(hints.nth(other).locator(".admonition-title ~ *").first.is_hidden()
                       for other in range(hints.count()) if other != number - 1)  # one at a time
            assert solution.locator("div.highlight").first.is_hidden()
            button.click()
            body.wait_for(state="hidden")
    assert page.errors == []


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_self_check_and_hints_are_readable_in_both_modes(page, base_url, theme):
    lesson_page(page, base_url, "checkpoints", theme)

    def worst(locator, state):
        results = locator.evaluate(TEXT_CONTRAST_SCRIPT)
        assert results, state
        low = min(results, key=lambda result: result["ratio"])
        assert low["ratio"] >= MINIMUM_CONTRAST, f"{state}: „{low['text']}“ {low['ratio']:.2f}"

    question = questions(page, "mehrfach").first
    question.scroll_into_view_if_needed()
    worst(question, "vor dem Antworten")
    right, wrong = answers_by_verdict(question)
    right[0].locator("input").check()
    wrong[0].locator("input").check()
    question.locator("button.selbsttest-pruefen").click()
    feedback(question)
    worst(question, "richtige und falsche Antwort, Rückmeldung „Nicht ganz“")
    wrong[0].locator("input").uncheck()
    for answer in right:
        answer.locator("input").check()
    question.locator("button.selbsttest-pruefen").click()
    feedback(question)
    worst(question, "Rückmeldung „Richtig“")

    hint = page.locator(".admonition.hint").first
    worst(hint.locator(".admonition-title"), "Titel eines Hinweises")
    hint.locator("button.toggle-button").click()
    worst(hint, "aufgeklappter Hinweis")
    assert page.errors == []


def test_search_results_do_not_quote_explanations(page, base_url):
    """A search hit shows an excerpt of the page; the hidden explanations must not appear in it."""
    page.goto(f"{base_url}/search.html?q=woanders")  # a word that only explanations use
    page.wait_for_selector("#search-results ul li a")
    page.wait_for_function("document.querySelectorAll('#search-results p.context').length > 0")
    excerpts = " ".join(page.locator("#search-results p.context").all_inner_texts())
    links = " ".join(a.get_attribute("href") for a in page.locator("#search-results li a").all())
    assert "trainingszustand.html" in links, links
    for explanation_text in ("sonst woanders", "Zum Nachlesen", "Richtig.", "Falsch."):
        assert explanation_text not in excerpts, excerpts
