// Sphinx' deutscher Katalog lässt die Meldung am Ende einer Suche leer, und seine Pluralregel
// liefert true/false statt eines Index: Documentation.ngettext gäbe undefined zurück, und die Suche
// bräche mit einem Fehler ab, bevor sie die Zahl der Treffer nennt. Der Katalog (translations.js)
// lädt erst nach dieser Datei; die Suche startet bei DOMContentLoaded nach diesem Handler.
document.addEventListener("DOMContentLoaded", () => {
  if (typeof Documentation === "undefined") return;
  const pluralRule = Documentation.PLURAL_EXPR;
  Documentation.PLURAL_EXPR = (n) => Number(pluralRule(n));
  Documentation.TRANSLATIONS["Search finished, found one page matching the search query."] = [
    "Suche beendet: Eine Seite passt zur Suchanfrage.",
    "Suche beendet: ${resultCount} Seiten passen zur Suchanfrage.",
  ];
});

// sphinx-togglebutton schreibt die Beschriftung seines Knopfs fest auf Englisch; hier auf Deutsch.
// Hinweise (Aufklappblöcke mit :class: dropdown hint) bekommen eine eigene Beschriftung.
document.addEventListener("DOMContentLoaded", () => {
  setTimeout(() => {
    for (const button of document.querySelectorAll("button.toggle-button")) {
      const hint = button.closest(".admonition.hint");
      button.setAttribute("aria-label", hint ? "Hinweis ein- und ausblenden" : "Lösung ein- und ausblenden");
    }
  });
});
