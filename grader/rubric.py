"""The single source of truth for what is graded: tasks, requirements, points, lesson pointers.

Every grading test carries ``@pytest.mark.requirement(<id>)`` with an id from this table; the
scorecard (and every export) is derived from the results recorded per requirement.
"""

from dataclasses import dataclass

LESSON_PAGE = "checkpoints.html"


@dataclass(frozen=True)
class Task:
    number: int
    function: str
    title: str


@dataclass(frozen=True)
class Requirement:
    id: str
    task: int
    points: int
    description: str
    section: str  # label of the lesson section, also the HTML anchor
    section_title: str

    @property
    def pointer(self):
        return f"Siehe Lektion „Checkpoints“, Abschnitt „{self.section_title}“ ({LESSON_PAGE}#{self.section})."


TASKS = (
    Task(1, "save_checkpoint", "Checkpoint speichern"),
    Task(2, "load_checkpoint", "Checkpoint laden"),
)

_SAVE = ("aufgabe-1", "Aufgabe 1: Checkpoint speichern")
_CONTENT = ("checkpoint-inhalt", "Was gehört in einen Checkpoint?")
_LOAD = ("aufgabe-2", "Aufgabe 2: Checkpoint laden")
_ERRORS = ("unbrauchbare-dateien", "Fehlende und unbrauchbare Dateien")
_SAFETY = ("weights-only", "Sicher laden mit weights_only=True")

REQUIREMENTS = (
    Requirement("speichern_datei", 1, 1, "Die Datei entsteht unter dem angegebenen Namen", *_SAVE),
    Requirement("speichern_standardname", 1, 1, "Ohne Dateinamen entsteht checkpoint.pth im Arbeitsverzeichnis", *_SAVE),
    Requirement("speichern_format", 1, 2, "Dictionary mit den drei Schlüsseln, ladbar mit weights_only=True", *_SAVE),
    Requirement("speichern_modell", 1, 2, "Modellzustand vollständig: Parameter und Buffer", *_CONTENT),
    Requirement("speichern_optimierer", 1, 2, "Optimiererzustand vollständig: state und param_groups", *_CONTENT),
    Requirement("speichern_epoche", 1, 1, "Die Epoche wird unverändert gespeichert", *_CONTENT),
    Requirement("speichern_kompatibel", 1, 1, "Die Musterlösung kann die Datei laden", *_SAVE),
    Requirement("laden_epoche", 2, 1, "Gibt die gespeicherte Epoche als int zurück", *_LOAD),
    Requirement("laden_modell", 2, 2, "Stellt Parameter und Buffer im übergebenen Modell wieder her", *_LOAD),
    Requirement("laden_optimierer", 2, 2, "Stellt den Zustand des übergebenen Optimierers wieder her", *_LOAD),
    Requirement("laden_standardname", 2, 1, "Liest ohne Dateinamen checkpoint.pth im Arbeitsverzeichnis", *_LOAD),
    Requirement("laden_fehlende_datei", 2, 1, "Fehlende Datei: Meldung und Rückgabe 0", *_ERRORS),
    Requirement("laden_unbrauchbare_datei", 2, 2, "Unbrauchbare Datei: Meldung und Rückgabe 0", *_ERRORS),
    Requirement("laden_andere_architektur", 2, 2, "Checkpoint eines anderen Modells: Meldung und Rückgabe 0", *_ERRORS),
    Requirement("laden_sicher", 2, 2, "Eine manipulierte Datei führt keinen Code aus", *_SAFETY),
)

REQUIREMENTS_BY_ID = {requirement.id: requirement for requirement in REQUIREMENTS}


def requirements_of(task):
    return [requirement for requirement in REQUIREMENTS if requirement.task == task.number]


def max_points(task=None):
    selected = REQUIREMENTS if task is None else requirements_of(task)
    return sum(requirement.points for requirement in selected)
