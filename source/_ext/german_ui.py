"""Deutsche Oberfläche für das Theme furo und die Erweiterungen des Kurses.

Zwei Arten von Texten sind zu übersetzen:

* Texte, die furo, Sphinx und sphinx-togglebutton über gettext ausgeben („Next“, „Back to top“,
  „Link to this heading“ …). Sie stehen in ``source/_locale/de/LC_MESSAGES/sphinx.po``; Sphinx
  übersetzt die Datei beim Bauen selbst in ``sphinx.mo`` (``locale_dirs`` in ``conf.py``).
* Texte, die furo fest in seine Vorlagen schreibt (Beschriftungen für Screenreader, die Titel der
  Symbole, die Fußzeile). Diese Erweiterung ersetzt sie beim Laden der Vorlage. Fehlt ein
  englischer Text, weil sich furo geändert hat, bricht der Bau mit einer Meldung ab.

Die Beschriftung des Aufklappknopfs setzt sphinx-togglebutton erst im Browser; sie übersetzt
``source/_static/german_ui.js``.
"""

from pathlib import Path

from sphinx.errors import ExtensionError

# Vorlage -> (englischer Text, deutscher Text, wie oft er vorkommt)
HARDCODED = {
    "page.html": [
        ('aria-label="Toggle site navigation sidebar"', 'aria-label="Navigation ein- und ausblenden"', 1),
        ('aria-label="Toggle table of contents sidebar"', 'aria-label="Inhaltsverzeichnis der Seite ein- und ausblenden"', 1),
        ('aria-label="Toggle Light / Dark / Auto color theme"', 'aria-label="Farbschema wechseln: hell, dunkel, automatisch"', 2),
        ('aria-label="On Read the Docs"', 'aria-label="Auf Read the Docs"', 1),
        ('aria-label="On GitHub"', 'aria-label="Auf GitHub"', 1),
        # Die Fußzeile setzt den Satz aus Stücken zusammen, eines davon ("'s") ohne gettext.
        ("""{% trans %}Made with {% endtrans -%}
            {%- if show_sphinx -%}
            {% trans %}<a href="https://www.sphinx-doc.org/">Sphinx</a> and {% endtrans -%}
            <a class="muted-link" href="https://pradyunsg.me">@pradyunsg</a>'s
            {% endif -%}
            {% trans %}
            <a href="https://github.com/pradyunsg/furo">Furo</a>
            {% endtrans %}""",
         """Erstellt mit
            {% if show_sphinx -%}
            <a href="https://www.sphinx-doc.org/">Sphinx</a> und dem Theme
            {% endif -%}
            <a href="https://github.com/pradyunsg/furo">Furo</a> von
            <a class="muted-link" href="https://pradyunsg.me">@pradyunsg</a>""", 1),
    ],
    "partials/icons.html": [
        ("<title>Contents</title>", "<title>Inhalt</title>", 1),
        ("<title>Menu</title>", "<title>Menü</title>", 1),
        ("<title>Expand</title>", "<title>Aufklappen</title>", 1),
        ("<title>Light mode</title>", "<title>Helles Farbschema</title>", 1),
        ("<title>Dark mode</title>", "<title>Dunkles Farbschema</title>", 1),
        ("<title>Auto light/dark, in light mode</title>", "<title>Automatisch, gerade hell</title>", 1),
        ("<title>Auto light/dark, in dark mode</title>", "<title>Automatisch, gerade dunkel</title>", 1),
    ],
}


def translate(template, source, filename):
    """``source`` der Vorlage ``template`` mit deutschen statt der fest eingetragenen englischen Texte."""
    for english, german, count in HARDCODED.get(template, []):
        if source.count(english) != count:
            raise ExtensionError(
                f"german_ui: {english[:60]!r} steht {source.count(english)}-mal statt {count}-mal in {filename}; "
                "hat sich furo geändert? Bitte die Tabelle HARDCODED in source/_ext/german_ui.py anpassen."
            )
        source = source.replace(english, german)
    return source


def install(app):
    loader = getattr(app.builder, "templates", None)
    if loader is None or not hasattr(loader, "get_source"):
        return
    original = loader.get_source

    def get_source(environment, template):
        source, filename, uptodate = original(environment, template)
        name = template.removeprefix("!")
        if name in HARDCODED and filename and "furo" in Path(filename).parts:
            source = translate(name, source, filename)
        return source, filename, uptodate

    loader.get_source = get_source


def setup(app):
    app.connect("builder-inited", install)
    app.add_js_file("german_ui.js")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
