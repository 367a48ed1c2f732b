"""Per-requirement results: the one data structure that the scorecard and all exports read."""

from dataclasses import dataclass, field

from grader.rubric import REQUIREMENTS_BY_ID, TASKS, requirements_of

NOT_IMPLEMENTED = "nicht_implementiert"


class Failure(AssertionError):
    """A grading test found a requirement not met; the message is the German feedback, ``cause`` its kind."""

    def __init__(self, message, cause="anforderung"):
        super().__init__(message)
        self.cause = cause


@dataclass
class RequirementResult:
    requirement: object
    passed: bool
    messages: list = field(default_factory=list)
    causes: set = field(default_factory=set)

    @property
    def points(self):
        return self.requirement.points if self.passed else 0


@dataclass
class TaskResult:
    task: object
    requirements: list
    notice: str = ""  # why none of the task's tests could run (missing file, syntax error)

    @property
    def points(self):
        return sum(result.points for result in self.requirements)

    @property
    def max_points(self):
        return sum(result.requirement.points for result in self.requirements)

    @property
    def not_implemented(self):
        failed = [result for result in self.requirements if not result.passed]
        return len(failed) == len(self.requirements) and any(NOT_IMPLEMENTED in r.causes for r in failed)


@dataclass
class Grading:
    submission: str
    status: str  # ok, keine Abgabe, Syntaxfehler, Importfehler, Zeitüberschreitung, Speicherlimit, Absturz
    tasks: list
    remarks: list = field(default_factory=list)  # German notices on the whole submission (e.g. skipped notebook cells)

    @property
    def points(self):
        return sum(task.points for task in self.tasks)

    @property
    def max_points(self):
        return sum(task.max_points for task in self.tasks)

    def task(self, number):
        return next((task for task in self.tasks if task.task.number == number), None)


def from_records(submission, records, tasks, status, missing_message, notices=None, remarks=()):
    """Combine the test records: a requirement counts only if every one of its tests passed.

    ``tasks`` are the graded tasks; ``notices`` maps a task number to the reason why none of its
    tests ran. A requirement without any finished test fails with ``missing_message``. ``remarks``
    are notices on the whole submission, shown above the tasks.
    """
    notices = notices or {}
    collected = next((r["tests"] for r in records if r["kind"] == "collected"), [])
    finished = {r["nodeid"]: r for r in records if r["kind"] == "test"}
    by_requirement = {
        requirement.id: RequirementResult(requirement, passed=True) for task in tasks for requirement in requirements_of(task)
    }
    for test in collected:
        result = by_requirement[test["requirement"]]
        record = finished.get(test["nodeid"], {"passed": False, "cause": "fehlt", "message": missing_message})
        if not record["passed"]:
            result.passed = False
            result.causes.add(record["cause"])
            if record["message"] not in result.messages:
                result.messages.append(record["message"])
    tested = {test["requirement"] for test in collected}
    for requirement_id, result in by_requirement.items():
        if requirement_id not in tested:
            result.passed = False
            notice = notices.get(REQUIREMENTS_BY_ID[requirement_id].task)
            result.messages.append(notice or missing_message)
    task_results = [
        TaskResult(task, [by_requirement[r.id] for r in requirements_of(task)], notices.get(task.number, ""))
        for task in tasks
    ]
    causes = set().union(set(), *(result.causes for result in by_requirement.values()))
    return Grading(submission, overall_status(status, causes), task_results, list(remarks))


# The status of a completed run names the gravest kind of misbehaviour that a test recorded.
STATUS_BY_CAUSE = (("import", "Importfehler"), ("zeit", "Zeitüberschreitung"), ("speicher", "Speicherlimit"),
                   ("abbruch", "Absturz"))


def overall_status(process_status, causes):
    if process_status != "ok":
        return process_status
    return next((status for cause, status in STATUS_BY_CAUSE if cause in causes), "ok")


def failed_everywhere(submission, status, message, tasks=TASKS):
    """A grading in which nothing could run (e.g. no submission at all): every requirement fails."""
    return from_records(submission, [], tasks, status, message, {task.number: message for task in tasks})
