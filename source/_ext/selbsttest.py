"""Verständnisfragen in den Lektionen: Einfach- und Mehrfachauswahl, ohne Server.

Eine Frage steht im reStructuredText der Lektion::

    .. selbsttest:: Was steht nach einem weiteren Trainingsschritt in ``stand``?
       :abschnitt: state-dict

       .. richtig:: Die Gewichte nach dem Trainingsschritt.

          ``state_dict()`` gibt Verweise zurück, keine Kopien.

       .. falsch:: Die Gewichte von vor dem Trainingsschritt.
          :abschnitt: checkpoint-inhalt

          Das gälte nur für eine Kopie.

* Das Argument von ``selbsttest`` ist die Frage. Absätze vor der ersten Antwort ergänzen sie.
* ``:abschnitt:`` (Pflicht) ist die Sprungmarke des Abschnitts, den jede Erklärung verlinkt, oder
  ``Titel <sprungmarke>`` für eine Marke, die nicht vor einer Überschrift steht. Eine Antwort kann
  ihn mit einem eigenen ``:abschnitt:`` ersetzen.
* ``:mehrfach:`` macht eine Mehrfachauswahl (Kontrollkästchen, mindestens eine richtige Antwort);
  ohne die Option ist genau eine Antwort richtig (Optionsfelder).
* ``richtig`` und ``falsch`` stehen nur in einem ``selbsttest``; ihr Argument ist der Text der
  Antwort, ihr Inhalt (Pflicht) die Erklärung, die nach dem Prüfen bei der gewählten Antwort
  erscheint.

Frage, Antworten und Erklärungen sind gewöhnliche Absätze: Die Rechtschreibprüfung sieht sie, die
Suche findet sie. Im HTML stehen die Erklärungen mit dem Attribut ``hidden`` (weder sichtbar noch
für Screenreader vorhanden), bis ``source/_static/selbsttest.js`` sie nach dem Prüfen zeigt; in den
Textausschnitten der Suchergebnisse erscheinen sie nicht. Die Fragen gehören zum Lernen, nicht zur
Bewertung, und stehen auch in der Ausgabe für Studierende.
"""

from html import escape

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

LETTERS = "abcdefghijklmnopqrstuvwxyz"


class selbsttest(nodes.General, nodes.Element):
    """Eine Frage: ``frage`` (Absatz), weitere Absätze, dann ``selbsttest_antwort``-Knoten."""


class selbsttest_antwort(nodes.General, nodes.Element):
    """Eine Antwort: Absatz mit ihrem Text, dann die ``selbsttest_erklaerung``."""


class selbsttest_erklaerung(nodes.General, nodes.Element):
    """Warum die Antwort richtig oder falsch ist, mit dem Verweis auf den Abschnitt."""


def _reference_paragraph(directive, target):
    """Der Absatz „Zum Nachlesen: <Abschnitt>“ mit einem :ref: auf ``target``."""
    inline, messages = directive.parse_inline(f"Zum Nachlesen: :ref:`{target}`")
    paragraph = nodes.paragraph("", "", *inline, classes=["selbsttest-nachlesen"])
    paragraph.source, paragraph.line = directive.get_source_info()
    return paragraph, messages


class SelbsttestDirective(SphinxDirective):
    required_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec = {"abschnitt": directives.unchanged_required, "mehrfach": directives.flag}

    def run(self):
        if "abschnitt" not in self.options:
            raise self.error("selbsttest: Die Option :abschnitt: fehlt (Sprungmarke des Abschnitts zum Nachlesen).")
        node = selbsttest(mehrfach="mehrfach" in self.options, nummer=self.env.new_serialno("selbsttest"))
        node.source, node.line = self.get_source_info()
        inline, messages = self.parse_inline(self.arguments[0])
        question = nodes.paragraph("", "", *inline, classes=["selbsttest-frage"])
        question.source, question.line = node.source, node.line
        node += question

        outer = self.env.temp_data.get("selbsttest_abschnitt")
        self.env.temp_data["selbsttest_abschnitt"] = self.options["abschnitt"]
        try:
            body = self.parse_content_to_nodes()
        finally:
            if outer is None:
                self.env.temp_data.pop("selbsttest_abschnitt", None)
            else:
                self.env.temp_data["selbsttest_abschnitt"] = outer
        answers = [child for child in body if isinstance(child, selbsttest_antwort)]
        if answers:
            after = body[body.index(answers[0]):]
            if any(not isinstance(child, (selbsttest_antwort, nodes.system_message)) for child in after):
                raise self.error("selbsttest: Nach der ersten Antwort dürfen nur noch Antworten folgen.")
        right = sum(answer["richtig"] for answer in answers)
        if len(answers) < 2:
            raise self.error("selbsttest: Eine Frage braucht mindestens zwei Antworten (richtig/falsch).")
        if "mehrfach" in self.options and right < 1:
            raise self.error("selbsttest: Eine Mehrfachauswahl braucht mindestens eine richtige Antwort.")
        if "mehrfach" not in self.options and right != 1:
            raise self.error(f"selbsttest: Bei Einfachauswahl ist genau eine Antwort richtig, hier {right}; "
                             "für mehrere richtige Antworten die Option :mehrfach: setzen.")
        node.extend(body)
        return [node, *messages]


class AntwortDirective(SphinxDirective):
    """``richtig`` und ``falsch``: eine Antwort mit ihrer Erklärung."""

    required_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec = {"abschnitt": directives.unchanged_required}
    correct = None  # in den Unterklassen gesetzt

    def run(self):
        default_section = self.env.temp_data.get("selbsttest_abschnitt")
        if default_section is None:
            raise self.error(f"{self.name}: steht nur innerhalb von .. selbsttest::")
        if not self.content:
            raise self.error(f"{self.name}: Die Erklärung fehlt (eingerückter Text unter der Antwort).")
        answer = selbsttest_antwort(richtig=self.correct)
        answer.source, answer.line = self.get_source_info()
        inline, messages = self.parse_inline(self.arguments[0])
        text = nodes.paragraph("", "", *inline, classes=["selbsttest-antworttext"])
        text.source, text.line = answer.source, answer.line
        answer += text

        explanation = selbsttest_erklaerung(richtig=self.correct)
        explanation.extend(self.parse_content_to_nodes())
        verdict = nodes.strong("", "Richtig." if self.correct else "Falsch.", classes=["selbsttest-urteil"])
        first = explanation.children[0] if explanation.children else None
        if isinstance(first, nodes.paragraph):
            first.insert(0, nodes.Text(" "))
            first.insert(0, verdict)
        else:
            explanation.insert(0, nodes.paragraph("", "", verdict))
        reference, reference_messages = _reference_paragraph(self, self.options.get("abschnitt", default_section))
        explanation += reference
        answer += explanation
        return [answer, *messages, *reference_messages]


class RichtigDirective(AntwortDirective):
    correct = True


class FalschDirective(AntwortDirective):
    correct = False


# --- HTML ------------------------------------------------------------------------------------------

def _render_inline(translator, paragraph):
    """Die Kinder eines Absatzes ohne das umgebende <p> (für <legend> und <label>)."""
    for child in paragraph.children:
        child.walkabout(translator)


def visit_selbsttest_html(translator, node):
    number = node["nummer"]
    page = getattr(translator.builder, "current_docname", "") or ""
    prefix = f"selbsttest-{page.replace('/', '-')}-{number}"
    multiple = node["mehrfach"]
    body = translator.body
    body.append(f'<div class="selbsttest" data-auswahl="{"mehrfach" if multiple else "einfach"}">\n'
                f'<fieldset class="selbsttest-feld">\n<legend class="selbsttest-frage">'
                f'<span class="selbsttest-kennung">Verständnisfrage</span> ')
    question, *rest = node.children
    _render_inline(translator, question)
    body.append("</legend>\n")
    answers = [child for child in rest if isinstance(child, selbsttest_antwort)]
    for child in rest:
        if not isinstance(child, selbsttest_antwort):
            child.walkabout(translator)
    instruction = ("Mehrere Antworten können richtig sein; wählen Sie alle richtigen." if multiple
                   else "Wählen Sie eine Antwort.")
    body.append(f'<p class="selbsttest-anleitung">{instruction}</p>\n<div class="selbsttest-antworten">\n')
    for index, answer in enumerate(answers):
        identifier = f"{prefix}-{LETTERS[index]}"
        text, explanation = answer.children
        body.append(f'<div class="selbsttest-antwort">\n<input class="selbsttest-eingabe" '
                    f'type="{"checkbox" if multiple else "radio"}" name="{escape(prefix)}" '
                    f'id="{escape(identifier)}" value="{LETTERS[index]}">\n<label for="{escape(identifier)}">')
        _render_inline(translator, text)
        body.append(f'</label>\n<div class="selbsttest-erklaerung" id="{escape(identifier)}-erklaerung" '
                    f'data-urteil="{"richtig" if answer["richtig"] else "falsch"}" hidden>\n')
        for child in explanation.children:
            child.walkabout(translator)
        body.append("</div>\n</div>\n")
    button = "Antworten prüfen" if multiple else "Antwort prüfen"
    body.append(f'</div>\n<button type="button" class="selbsttest-pruefen">{button}</button>\n'
                '<p class="selbsttest-rueckmeldung" role="status" aria-live="polite"></p>\n'
                "</fieldset>\n</div>\n")
    raise nodes.SkipNode


def _unused(translator, node):
    raise AssertionError("wird von visit_selbsttest_html selbst ausgegeben")


def _children_only(translator, node):
    """Andere Ausgabeformate (Text, LaTeX …): Frage, Antworten und Erklärungen als normaler Text."""


def check_placement(app, doctree):
    """Eine Antwort außerhalb einer Frage wäre eine Erklärung ohne Frage."""
    for answer in doctree.findall(selbsttest_antwort):
        if not isinstance(answer.parent, selbsttest):
            logger.warning("richtig/falsch: steht nicht direkt in einem .. selbsttest::", location=answer)


def setup(app):
    fallback = (_children_only, _children_only)
    formats = {name: fallback for name in ("text", "latex", "man", "texinfo")}
    app.add_node(selbsttest, html=(visit_selbsttest_html, _unused), **formats)
    app.add_node(selbsttest_antwort, html=(_unused, _unused), **formats)
    app.add_node(selbsttest_erklaerung, html=(_unused, _unused), **formats)
    app.add_directive("selbsttest", SelbsttestDirective)
    app.add_directive("richtig", RichtigDirective)
    app.add_directive("falsch", FalschDirective)
    app.connect("doctree-read", check_placement)
    app.add_css_file("selbsttest.css")
    app.add_js_file("selbsttest.js")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
