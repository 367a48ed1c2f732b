"""Dateinamen mit und ohne aufgefüllte Schrittnummer: Was ``sorted`` daraus macht."""

import re

steps = [5, 9, 10, 99, 100, 1000]

without_padding = [f"step-{step}.pt" for step in steps]
with_padding = [f"schritt-{step:06d}.pt" for step in steps]

print('"step-10" < "step-9":', "step-10" < "step-9")
print("sortiert ohne Nullen:", sorted(without_padding))
print("sortiert mit Nullen: ", sorted(with_padding))
print("Neuester laut max() ohne Nullen:", max(without_padding))

# Wer die Schrittnummer aus dem Namen liest und als Zahl vergleicht, ist von der Schreibweise unabhängig.
pattern = re.compile(r"(?:step|schritt)-(\d+)\.pt")
print("als Zahl sortiert:   ", sorted(without_padding, key=lambda name: int(pattern.fullmatch(name)[1])))
# Sechs Stellen reichen bis Schritt 999999; danach wird der Name länger.
print("nach Schritt 999999: ", sorted(f"schritt-{step:06d}.pt" for step in (999_999, 1_000_000)))
