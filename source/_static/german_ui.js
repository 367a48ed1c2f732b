// sphinx-togglebutton schreibt die Beschriftung seines Knopfs fest auf Englisch; hier auf Deutsch.
document.addEventListener("DOMContentLoaded", () => {
  setTimeout(() => {
    for (const button of document.querySelectorAll("button.toggle-button")) {
      button.setAttribute("aria-label", "Lösung ein- und ausblenden");
    }
  });
});
