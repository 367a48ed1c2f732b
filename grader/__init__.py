"""Autograder des Kurses: prüft eine Abgabe und gibt eine deutsche Bewertung aus."""
