"""The sentences under the table of lesson 2 follow the numbers: no ordering the data don't show."""

from course.resume_figure import COMPLETE, LESSON_ONE, MODEL_ONLY, numbers_table

ORDERED = "liegt der Lauf nur mit dem Modell bei allen 3 Startwerten weiter"
NOT_ORDERED = "liegt der Lauf nur mit dem Modell nicht bei allen 3 Startwerten weiter"
NOISY = "ordnet die beiden Läufe je nach Startwert verschieden"


def seed(lesson_one, model_only, complete=(0.0, 0.0)):
    return {COMPLETE: complete, LESSON_ONE: lesson_one, MODEL_ONLY: model_only}


def test_ordering_is_claimed_only_when_every_seed_shows_it():
    consistent = [seed((1.5, 0.48), (2.6, 0.42)), seed((1.4, 0.3), (2.3, 0.41)), seed((1.7, 0.41), (2.7, 0.66))]
    text = numbers_table(consistent)
    assert ORDERED in text and NOISY in text
    assert "1,53 (1,40 bis 1,70)" in text
    assert "bei jedem Startwert bitgenau gleich" in text

    flipped = consistent[:2] + [seed((2.8, 0.41), (2.7, 0.66))]
    text = numbers_table(flipped)
    assert NOT_ORDERED in text and ORDERED not in text


def test_a_single_maximum_in_one_order_is_still_called_noisy_but_not_contradicted():
    same_order = [seed((1.5, 0.3), (2.6, 0.4))] * 3
    text = numbers_table(same_order)
    assert NOISY not in text
    assert "einheitlich" in text


def test_a_deviating_complete_run_is_reported():
    text = numbers_table([seed((1.5, 0.3), (2.6, 0.4), complete=(1e-7, 1e-7))] * 3)
    assert "bitgenau gleich" not in text
    assert "weichen die Gewichte bei mindestens einem Startwert ab" in text
