"""German feedback on one grading: the scorecard of ``make grade`` and the Markdown feedback file."""

from dataclasses import dataclass

from grader.text import cap

MAX_MESSAGES = 4
MAX_SENTENCE = 580  # a last guard: every line of the feedback, indented, stays under 600 characters


@dataclass(frozen=True)
class Style:
    task: str
    requirement: str
    detail: str
    total: str
    remark: str


SCORECARD = Style(task="{}", requirement="  {}", detail="      {}", total="Punkte: {}", remark="Hinweis: {}")
MARKDOWN = Style(task="## {}\n", requirement="- {}", detail="  - {}", total="**Punkte: {}**", remark="- Hinweis: {}")
MAX_REMARKS = 8


def requirement_feedback(result, task_result):
    """The German sentences for one requirement: what went wrong and where to read up (empty: passed)."""
    if result.passed:
        return []
    if task_result.notice:  # e.g. a syntax error: said once for the task, not per requirement
        return [task_result.notice]
    sentences = [cap(message, MAX_SENTENCE) for message in result.messages[:MAX_MESSAGES]]
    if len(result.messages) > MAX_MESSAGES:
        sentences.append(f"… und {len(result.messages) - MAX_MESSAGES} weitere Fälle.")
    return sentences + [result.requirement.pointer]


def task_heading(task_result):
    task = task_result.task
    return f"Aufgabe {task.number} – {task.name} ({task.title}): {task_result.points}/{task_result.max_points} Punkte"


def render(grading, style, header):
    lines = list(header)
    remarks = [cap(remark, MAX_SENTENCE) for remark in grading.remarks[:MAX_REMARKS]]
    if len(grading.remarks) > MAX_REMARKS:
        remarks.append(f"… und {len(grading.remarks) - MAX_REMARKS} weitere Hinweise.")
    if remarks:
        lines += [style.remark.format(remark) for remark in remarks] + [""]
    for task in grading.tasks:
        lines.append(style.task.format(task_heading(task)))
        if task.notice:
            lines.append(style.requirement.format(task.notice))
        elif task.not_implemented:
            verb = "löst" if len(task.task.functions) == 1 else "lösen"
            lines.append(style.requirement.format(
                f"noch nicht implementiert: {task.task.name} {verb} NotImplementedError aus."
            ))
        else:
            for result in task.requirements:
                mark = "✓" if result.passed else "✗"
                lines.append(style.requirement.format(
                    f"{mark} {result.requirement.description} ({result.points}/{result.requirement.points})"
                ))
                lines += [style.detail.format(sentence) for sentence in requirement_feedback(result, task)]
        lines.append("")
    lines.append(style.total.format(f"{grading.points}/{grading.max_points}"))
    return "\n".join(lines)


def scorecard(grading):
    """The scorecard; its last line is ``Punkte: X/Y``."""
    return render(grading, SCORECARD, [f"Bewertung von {grading.submission}", ""])


def feedback_markdown(student, grading):
    """The German feedback file of one student in a batch."""
    return render(grading, MARKDOWN, [f"# Rückmeldung für {student}", "", f"Status: {grading.status}", ""]) + "\n"
