"""The German scorecard printed by ``make grade``."""

MAX_MESSAGES = 4


def scorecard(grading):
    lines = [f"Bewertung von {grading.submission}", ""]
    if grading.notice:
        lines += [grading.notice, ""]
    for task in grading.tasks:
        lines.append(
            f"Aufgabe {task.task.number} – {task.task.function} ({task.task.title}): "
            f"{task.points}/{task.max_points} Punkte"
        )
        if task.not_implemented:
            lines += [f"  noch nicht implementiert: {task.task.function} löst NotImplementedError aus.", ""]
            continue
        for result in task.requirements:
            mark = "✓" if result.passed else "✗"
            lines.append(f"  {mark} {result.requirement.description} ({result.points}/{result.requirement.points})")
            if not result.passed and not grading.notice:
                lines += [f"      {message}" for message in result.messages[:MAX_MESSAGES]]
                if len(result.messages) > MAX_MESSAGES:
                    lines.append(f"      … und {len(result.messages) - MAX_MESSAGES} weitere Fälle.")
                lines.append(f"      {result.requirement.pointer}")
        lines.append("")
    lines.append(f"Punkte: {grading.points}/{grading.max_points}")
    return "\n".join(lines)
