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
