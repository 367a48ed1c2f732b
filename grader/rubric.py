"""The single source of truth for what is graded: lessons, tasks, requirements, points, pointers.

Every grading test carries ``@pytest.mark.requirement(<id>)`` with an id from this table; the
scorecard (and every export) is derived from the results recorded per requirement.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Lesson:
    page: str  # the lesson's document name in source/
    title: str
    module: str  # the file students fill in: exercises/<module>.py

    @property
    def filename(self):
        return f"{self.module}.py"


@dataclass(frozen=True)
class Task:
    number: int
    lesson: Lesson
    functions: tuple
    title: str

    @property
    def name(self):
        return ", ".join(self.functions)


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
        lesson = TASKS_BY_NUMBER[self.task].lesson
        return f"Siehe Lektion „{lesson.title}“, Abschnitt „{self.section_title}“ ({lesson.page}.html#{self.section})."


CHECKPOINTS = Lesson("checkpoints", "Checkpoints", "checkpoints")
EXACT_RESUME = Lesson("trainingszustand", "Training exakt fortsetzen", "training_state")
ROBUST = Lesson("robust", "Sicher und robust speichern", "robust")
MANAGING = Lesson("verwaltung", "Checkpoints verwalten", "verwaltung")
DISTRIBUTED = Lesson("verteilt", "Große Modelle und verteiltes Training", "verteilt")
LESSONS = (CHECKPOINTS, EXACT_RESUME, ROBUST, MANAGING, DISTRIBUTED)
ALL_MODULES = tuple(lesson.module for lesson in LESSONS)

TASKS = (
    Task(1, CHECKPOINTS, ("save_checkpoint",), "Checkpoint speichern"),
    Task(2, CHECKPOINTS, ("load_checkpoint",), "Checkpoint laden"),
    Task(3, EXACT_RESUME, ("capture_rng_states", "save_training_state"), "Trainingszustand speichern"),
    Task(4, EXACT_RESUME, ("restore_rng_states", "resume_training_state"), "Training exakt fortsetzen"),
    Task(5, ROBUST, ("atomic_save",), "Atomar speichern"),
    Task(6, ROBUST, ("safe_load",), "Ganz oder gar nicht laden"),
    Task(7, MANAGING, ("CheckpointManager",), "Ein CheckpointManager"),
    Task(8, DISTRIBUTED, ("TrainingState", "save_checkpoint", "save_checkpoint_async", "load_latest"),
         "Verteilt speichern und fortsetzen"),
)
TASKS_BY_NUMBER = {task.number: task for task in TASKS}

_SAVE = ("aufgabe-1", "Aufgabe 1: Checkpoint speichern")
_CONTENT = ("checkpoint-inhalt", "Was gehört in einen Checkpoint?")
_LOAD = ("aufgabe-2", "Aufgabe 2: Checkpoint laden")
_ERRORS = ("unbrauchbare-dateien", "Fehlende und unbrauchbare Dateien")
_SAFETY = ("weights-only", "Sicher laden mit weights_only=True")
_STATE = ("aufgabe-3", "Aufgabe 3: Trainingszustand speichern")
_RNG = ("zufallsgeneratoren", "Zufallszahlengeneratoren")
_NUMPY = ("numpy-weights-only", "NumPy-Zustände und weights_only")
_RESUME = ("aufgabe-4", "Aufgabe 4: Training exakt fortsetzen")
_ORDER = ("reihenfolge", "Die richtige Reihenfolge beim Fortsetzen")
_ATOMIC_TASK = ("aufgabe-5", "Aufgabe 5: Atomar speichern")
_ATOMIC = ("atomar-speichern", "Atomar speichern")
_SAFE_LOAD = ("aufgabe-6", "Aufgabe 6: Ganz oder gar nicht laden")
_NOT_ATOMIC = ("nicht-atomar", "load_state_dict ist nicht atomar")
_PREFIXES = ("praefixe", "Präfixe: module. und _orig_mod.")
_DEVICES = ("map-location", "Checkpoints von anderen Geräten: map_location")
_ALLOWLIST = ("allowlist", "Was weights_only=True zulässt")
_PREEMPTION = ("preemption", "Wenn der Cluster das Training beendet")
_MANAGER = ("aufgabe-7", "Aufgabe 7: Ein CheckpointManager")
_NAMES = ("dateinamen", "Dateinamen, die sich sortieren lassen")
_ROTATION = ("rotation", "Nur die neuesten behalten")
_BEST = ("bester-checkpoint", "Den besten Checkpoint behalten")
_NEWEST_VALID = ("neuester-gueltiger", "Vom neuesten gültigen Checkpoint fortsetzen")
_DISTRIBUTED = ("aufgabe-8", "Aufgabe 8: Verteilt speichern und fortsetzen")
_DCP = ("dcp-grundlagen", "Mit DCP speichern und laden")
_STATEFUL = ("stateful", "Der ganze Trainingszustand als Stateful")
_RANK_RNG = ("rng-je-rang", "Zufallsgeneratoren je Rang")
_RESHARD = ("umverteilen", "Mit einer anderen Zahl von Prozessen laden")
_CONVERT = ("dcp-umwandeln", "Einen DCP-Checkpoint in eine Datei umwandeln")
_ASYNC = ("async-speichern", "Im Hintergrund speichern")

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
    Requirement("laden_unterbrechung", 2, 1, "Strg+C (KeyboardInterrupt) und sys.exit() beim Laden werden nicht abgefangen", *_ERRORS),
    Requirement("zustand_inhalt", 3, 2, "Alle state_dicts und progress unverändert im Checkpoint", *_STATE),
    Requirement("zustand_weights_only", 3, 2, "Ladbar mit weights_only=True und leerer Allowlist", *_NUMPY),
    Requirement("zustand_zufall", 3, 2, "Die Zufallszustände von torch, NumPy und Python sind gesichert", *_RNG),
    Requirement("fortsetzen_epochenende", 4, 3, "Fortsetzen am Epochenende: bitgenau wie ohne Unterbrechung", *_RESUME),
    Requirement("fortsetzen_epochenmitte", 4, 3, "Fortsetzen mitten in der Epoche: bitgenau wie ohne Unterbrechung", *_ORDER),
    Requirement("fortsetzen_zufall", 4, 2, "Nach dem Fortsetzen ziehen torch, NumPy und Python dieselben Zufallszahlen", *_RNG),
    Requirement("fortsetzen_fehlende_datei", 4, 1, "Fehlende oder unbrauchbare Datei: Meldung und (None, None)", *_RESUME),
    Requirement("fortsetzen_sicher", 4, 1, "Eine manipulierte Datei führt keinen Code aus", *_NUMPY),
    Requirement("fortsetzen_unterbrechung", 4, 1, "Strg+C (KeyboardInterrupt) und sys.exit() beim Laden werden nicht abgefangen", *_RESUME),
    Requirement("atomar_inhalt", 5, 2, "Die Datei enthält danach genau das Objekt; eine alte Datei wird ersetzt", *_ATOMIC_TASK),
    Requirement("atomar_alte_datei", 5, 3, "Scheitert das Schreiben (Platte voll, Fehler beim Serialisieren, Prozess beendet), bleibt die alte Datei bitgenau erhalten", *_ATOMIC),
    Requirement("atomar_aufraeumen", 5, 1, "Keine temporäre Datei bleibt zurück", *_ATOMIC),
    Requirement("atomar_fehler_weitergeben", 5, 1, "Ein Fehler beim Schreiben wird an den Aufrufer weitergegeben", *_ATOMIC_TASK),
    Requirement("atomar_anderes_dateisystem", 5, 2, "Auch wenn das Ziel auf einem anderen Dateisystem als der temporäre Ordner liegt", *_ATOMIC),
    Requirement("atomar_sigterm", 5, 2, "Ein Training mit Ihrem atomic_save übersteht SIGTERM: Status 0, Checkpoint ladbar, Fortsetzen bitgenau", *_PREEMPTION),
    Requirement("sicher_laden_erfolg", 6, 2, "Ein passender Checkpoint: Modell und Optimierer geladen, der Rest zurückgegeben", *_SAFE_LOAD),
    Requirement("sicher_laden_praefixe", 6, 2, "Checkpoints von DataParallel/DDP (module.) und torch.compile (_orig_mod.) laden", *_PREFIXES),
    Requirement("sicher_laden_echte_namen", 6, 1, "Ein Untermodul, das wirklich module heißt, wird nicht umbenannt", *_PREFIXES),
    Requirement("sicher_laden_geraet", 6, 1, "Ein Checkpoint von einer GPU-Maschine lädt mit map_location auf die CPU", *_DEVICES),
    Requirement("sicher_laden_unveraendert", 6, 3, "Bei jedem Problem bleiben Modell und Optimierer bitgenau unverändert", *_NOT_ATOMIC),
    Requirement("sicher_laden_rueckgabe", 6, 1, "Bei jedem Problem: keine Ausnahme, Rückgabe None", *_SAFE_LOAD),
    Requirement("sicher_laden_meldung", 6, 2, "Die Meldung nennt das Problem: fehlender Schlüssel, beide Formen, abgelehnter Typ", *_SAFE_LOAD),
    Requirement("sicher_laden_weights_only", 6, 1, "Eine manipulierte Datei führt keinen Code aus", *_ALLOWLIST),
    Requirement("sicher_laden_allowlist", 6, 1, "Die Allowlist von weights_only bleibt unverändert", *_ALLOWLIST),
    Requirement("verwaltung_rotation", 7, 2, "Nach 7 Speicherungen mit keep=3 bleiben genau die 3 neuesten und der beste", *_ROTATION),
    Requirement("verwaltung_namen", 7, 1, "Dateinamen und Reihenfolge stimmen über Schritt 9, 99 und 999 hinaus", *_NAMES),
    Requirement("verwaltung_bester", 7, 2, "Der beste Checkpoint mit mode='min' und mode='max'", *_BEST),
    Requirement("verwaltung_gleichstand", 7, 1, "Bei Gleichstand bleibt der frühere der beste", *_BEST),
    Requirement("verwaltung_nan", 7, 1, "NaN wird nie der beste", *_BEST),
    Requirement("verwaltung_neuester_gueltiger", 7, 2, "latest_valid überspringt kaputte Dateien und nennt sie", *_NEWEST_VALID),
    Requirement("verwaltung_sicher", 7, 1, "Eine manipulierte Datei führt keinen Code aus", *_NEWEST_VALID),
    Requirement("verwaltung_absturz", 7, 2, "Bricht das Speichern ab, bleibt der vorige Checkpoint der neueste gültige", *_ROTATION),
    Requirement("verwaltung_neustart", 7, 2, "Ein neuer Manager auf einem vorhandenen Ordner kennt dessen Checkpoints und den besten", *_MANAGER),
    Requirement("verteilt_dateien", 8, 2, "Jeder Rang schreibt seinen Teil: schritt-000003 mit .metadata und einer Datei je Rang; das Training bleibt unverändert", *_DCP),
    Requirement("verteilt_modell_optimierer", 8, 5, "Nach dem Laden sind Modell und Optimierer bitgenau wie beim Speichern, und das Training läuft bitgenau weiter", *_STATEFUL),
    Requirement("verteilt_fortschritt", 8, 2, "Scheduler und Schrittzahl kommen mit zurück", *_STATEFUL),
    Requirement("verteilt_zufall", 8, 3, "Jeder Rang bekommt seinen eigenen Zufallszustand zurück", *_RANK_RNG),
    Requirement("verteilt_neuester", 8, 2, "load_latest nimmt den neuesten vollständigen Checkpoint; ohne Checkpoint Rückgabe 0 und nichts verändert", *_DISTRIBUTED),
    Requirement("verteilt_umverteilen", 8, 2, "Ein einzelner Prozess ohne Prozessgruppe lädt den Checkpoint der zwei Ränge vollständig", *_RESHARD),
    Requirement("verteilt_umwandeln", 8, 2, "dcp_to_torch_save macht daraus eine Datei, die torch.load mit weights_only=True lädt", *_CONVERT),
    Requirement("verteilt_async_warten", 8, 2, "save_checkpoint_async wartet auf die vorige Speicherung, nutzt die eigene Gruppe und gibt das Future zurück", *_ASYNC),
    Requirement("verteilt_async_absturz", 8, 3, "Stirbt das Training während einer Speicherung im Hintergrund, lädt load_latest den vorigen vollständigen Checkpoint", *_ASYNC),
)

REQUIREMENTS_BY_ID = {requirement.id: requirement for requirement in REQUIREMENTS}


def requirements_of(task):
    return [requirement for requirement in REQUIREMENTS if requirement.task == task.number]


def tasks_of(lesson):
    return [task for task in TASKS if task.lesson == lesson]


def max_points(tasks=TASKS):
    return sum(requirement.points for task in tasks for requirement in requirements_of(task))
