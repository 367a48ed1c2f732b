"""NaN in Vergleichen: jeder Vergleich ist False, und min() hängt von der Reihenfolge ab."""

nan = float("nan")
print("nan < 1.0:", nan < 1.0)
print("nan > 1.0:", nan > 1.0)
print("nan == nan:", nan == nan)
print("min([nan, 1.0, 0.5]):", min([nan, 1.0, 0.5]))
print("min([1.0, nan, 0.5]):", min([1.0, nan, 0.5]))
