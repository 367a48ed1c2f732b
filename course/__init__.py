"""Gemeinsamer Code des Kurses: Modell, Daten und Trainingsschleife der Demo."""
