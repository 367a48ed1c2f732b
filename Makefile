# Kurs „PyTorch-Checkpoints“: Bauen, Testen, Bewerten.
# Ohne aktive virtuelle Umgebung legt das Makefile .venv aus requirements.txt an.

SHELL := /bin/bash
VENV := .venv
SPHINXOPTS ?= -n -W --keep-going
BUILDDIR := _build
ABGABE ?= exercises
AUSGABE ?= bewertung

ifdef VIRTUAL_ENV
PYTHON := python
SETUP :=
else
PYTHON := $(VENV)/bin/python
SETUP := $(VENV)/.installiert
endif

.PHONY: help html test grade grade-all train clean

help:
	@echo "make html               Kurs als HTML bauen (_build/html/index.html)"
	@echo "make test               alle Tests des Projekts"
	@echo "make grade              exercises/ bewerten (oder: make grade ABGABE=PFAD)"
	@echo "                        JSON=results.json bzw. JUNIT=junit.xml schreiben zusätzlich Berichte"
	@echo "make grade-all ABGABEN=ORDNER   alle Abgaben eines Kurses bewerten (Ergebnis: bewertung/)"
	@echo "make train              Trainingsdemo mit Ihren Funktionen (LOESUNG=1: mit der Musterlösung)"
	@echo "make clean              Build-Ergebnisse löschen"

$(VENV)/.installiert: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet -r requirements.txt
	touch $@

html: $(SETUP)
	$(PYTHON) -m sphinx -b html -c . source $(BUILDDIR)/html $(SPHINXOPTS)

test: $(SETUP)
	$(PYTHON) -m pytest

grade: $(SETUP)
	@$(PYTHON) -m grader "$(ABGABE)" $(if $(JSON),--json "$(JSON)") $(if $(JUNIT),--junit "$(JUNIT)")

grade-all: $(SETUP)
ifndef ABGABEN
	$(error Bitte den Ordner mit den Abgaben angeben: make grade-all ABGABEN=ORDNER)
endif
	@$(PYTHON) -m grader.batch "$(ABGABEN)" --ausgabe "$(AUSGABE)"

train: $(SETUP)
	$(PYTHON) -m course.training $(if $(LOESUNG),--loesung)

clean:
	rm -rf $(BUILDDIR)
