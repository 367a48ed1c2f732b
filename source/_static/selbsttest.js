// Verständnisfragen (source/_ext/selbsttest.py): Nach „Antwort prüfen“ erscheint bei jeder gewählten
// Antwort ihre Erklärung, und die Rückmeldung (aria-live) sagt, ob alles stimmt. Vorher verrät die
// Seite nichts: Die Erklärungen tragen das Attribut hidden und sind mit nichts verknüpft.
(() => {
  const MESSAGES = {
    leer: { einfach: "Bitte wählen Sie zuerst eine Antwort.", mehrfach: "Bitte wählen Sie zuerst mindestens eine Antwort." },
    richtig: {
      einfach: "Richtig. Die Begründung steht unter Ihrer Antwort.",
      mehrfach: "Richtig: Sie haben genau die richtigen Antworten gewählt. Die Begründungen stehen unter Ihren Antworten.",
    },
    falsch: "Leider falsch. Die Begründung steht unter Ihrer Antwort. Versuchen Sie es noch einmal.",
    weiter: "Die Begründungen stehen unter Ihren Antworten. Versuchen Sie es noch einmal.",
  };

  const partly = (wrong, missing) => {
    const wrongText = wrong === 1 ? "Eine Ihrer Antworten ist falsch" : `${wrong} Ihrer Antworten sind falsch`;
    if (wrong && missing) return `Nicht ganz: ${wrongText}, und es fehlt noch mindestens eine richtige.`;
    if (wrong) return `Nicht ganz: ${wrongText}.`;
    return "Nicht ganz: Ihre Antworten sind richtig, aber es fehlt noch mindestens eine richtige.";
  };

  const setUp = (question) => {
    const kind = question.dataset.auswahl === "mehrfach" ? "mehrfach" : "einfach";
    const answers = [...question.querySelectorAll(".selbsttest-antwort")].map((element) => ({
      element,
      input: element.querySelector("input.selbsttest-eingabe"),
      explanation: element.querySelector(".selbsttest-erklaerung"),
    }));
    const feedback = question.querySelector(".selbsttest-rueckmeldung");

    const announce = (text, result) => {
      // Erst leeren, dann setzen: So liest ein Screenreader auch dieselbe Meldung noch einmal vor.
      feedback.textContent = "";
      delete feedback.dataset.ergebnis;
      window.requestAnimationFrame(() => {
        feedback.textContent = text;
        if (result) feedback.dataset.ergebnis = result;
      });
    };

    const reset = () => {
      for (const { element, input, explanation } of answers) {
        explanation.hidden = true;
        input.removeAttribute("aria-describedby");
        delete element.dataset.ergebnis;
      }
      feedback.textContent = "";
      delete feedback.dataset.ergebnis;
    };

    const check = () => {
      reset();
      const chosen = answers.filter(({ input }) => input.checked);
      if (chosen.length === 0) {
        announce(MESSAGES.leer[kind], "");
        return;
      }
      for (const { element, input, explanation } of chosen) {
        explanation.hidden = false;
        input.setAttribute("aria-describedby", explanation.id);
        element.dataset.ergebnis = explanation.dataset.urteil;
      }
      const isRight = ({ explanation }) => explanation.dataset.urteil === "richtig";
      const wrong = chosen.filter((answer) => !isRight(answer)).length;
      const missing = answers.filter((answer) => isRight(answer) && !answer.input.checked).length;
      if (!wrong && !missing) {
        announce(MESSAGES.richtig[kind], "richtig");
      } else if (kind === "einfach") {
        announce(MESSAGES.falsch, "falsch");
      } else {
        announce(`${partly(wrong, missing)} ${MESSAGES.weiter}`, "falsch");
      }
    };

    question.querySelector("button.selbsttest-pruefen").addEventListener("click", check);
    for (const { input } of answers) input.addEventListener("change", reset);
  };

  // Die Suche von Sphinx zeigt zu jedem Treffer einen Ausschnitt aus dem Text der Seite, auch aus
  // versteckten Teilen. Die Erklärungen gehören nicht hinein: Sie würden die Antworten verraten.
  const keepExplanationsOutOfSearch = () => {
    if (typeof Search === "undefined" || typeof Search.htmlToText !== "function") return;
    const htmlToText = Search.htmlToText;
    Search.htmlToText = (htmlString, anchor) => {
      const page = new DOMParser().parseFromString(htmlString, "text/html");
      page.querySelectorAll(".selbsttest-erklaerung").forEach((element) => element.remove());
      return htmlToText(page.documentElement.outerHTML, anchor);
    };
  };

  const start = () => {
    document.querySelectorAll(".selbsttest").forEach(setUp);
    keepExplanationsOutOfSearch();
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
