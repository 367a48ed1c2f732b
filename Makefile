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

.PHONY: help html html-student livehtml spelling doctest test grade grade-all gradescope notebooks train clean

help:
	@echo "make html               Kurs als HTML bauen (_build/html/index.html)"
	@echo "make html-student       Ausgabe ohne Lösungen bauen (_build/html-student/)"
	@echo "make livehtml           Kurs bei jeder Änderung neu bauen und im Browser zeigen"
	@echo "make spelling           deutsche Rechtschreibprüfung der Lektionen und Docstrings"
	@echo "make doctest            die Codebeispiele der Lektionen ausführen und ihre Ausgaben vergleichen"
	@echo "make test               alle Tests des Projekts"
	@echo "make grade              exercises/ bewerten (oder: make grade ABGABE=PFAD)"
	@echo "                        JSON=results.json bzw. JUNIT=junit.xml schreiben zusätzlich Berichte"
	@echo "make grade-all ABGABEN=ORDNER   alle Abgaben eines Kurses bewerten (Ergebnis: bewertung/)"
	@echo "make gradescope         Autograder-Paket für Gradescope bauen (_build/gradescope.zip)"
	@echo "make notebooks          die Aufgaben als Notebooks neu erzeugen (exercises/*.ipynb aus den Stummeln)"
	@echo "make train              Trainingsdemo mit Ihren Funktionen (LOESUNG=1: Musterlösung, LEKTION=1: Lektion 1,"
	@echo "                        EPOCHEN=20: bis Epoche 20 trainieren, VERWALTUNG=1: CheckpointManager der Lektion 4)"
	@echo "make train VERTEILT=1   verteilte Trainingsdemo der Lektion 5: zwei Ränge, DCP (LOESUNG=1: Musterlösung,"
	@echo "                        SCHRITTE=800: bis Schritt 800 trainieren)"
	@echo "make clean              Build-Ergebnisse löschen"

$(VENV)/.installiert: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet -r requirements.txt
	touch $@

html: $(SETUP)
	$(PYTHON) -m sphinx -b html -c . -d $(BUILDDIR)/doctrees source $(BUILDDIR)/html $(SPHINXOPTS)

# Ausgabe ohne Lösungen; die Doctrees liegen außerhalb, denn sie enthalten die ungefilterte Seite.
html-student: $(SETUP)
	$(PYTHON) -m sphinx -b html -t student -c . -d $(BUILDDIR)/doctrees-student source $(BUILDDIR)/html-student $(SPHINXOPTS)

livehtml: $(SETUP)
	$(PYTHON) -m sphinx_autobuild -b html -c . -d $(BUILDDIR)/doctrees source $(BUILDDIR)/html $(SPHINXOPTS) --watch solutions --watch exercises --watch course

spelling: $(SETUP)
	$(PYTHON) -m sphinx -b spelling -t spelling -c . -d $(BUILDDIR)/doctrees-spelling source $(BUILDDIR)/spelling $(SPHINXOPTS)

doctest: $(SETUP)
	$(PYTHON) -m sphinx -b doctest -c . -d $(BUILDDIR)/doctrees source $(BUILDDIR)/doctest $(SPHINXOPTS)

test: $(SETUP)
	$(PYTHON) -m pytest

grade: $(SETUP)
	@$(PYTHON) -m grader "$(ABGABE)" $(if $(JSON),--json "$(JSON)") $(if $(JUNIT),--junit "$(JUNIT)")

grade-all: $(SETUP)
ifndef ABGABEN
	$(error Bitte den Ordner mit den Abgaben angeben: make grade-all ABGABEN=ORDNER)
endif
	@$(PYTHON) -m grader.batch "$(ABGABEN)" --ausgabe "$(AUSGABE)" $(if $(OHNE_SANDBOX),--ohne-sandbox)

gradescope: $(SETUP)
	$(PYTHON) -m gradescope.package $(BUILDDIR)/gradescope.zip

# Bearbeitete Notebooks bleiben unangetastet; überschreiben mit: $(PYTHON) -m course.notebooks --erzwingen
notebooks: $(SETUP)
	$(PYTHON) -m course.notebooks

train: $(SETUP)
ifdef VERTEILT
	$(PYTHON) -m course.distributed_training $(if $(LOESUNG),--loesung) $(if $(SCHRITTE),--schritte $(SCHRITTE))
else
	$(PYTHON) -m course $(if $(LEKTION),--lektion $(LEKTION)) $(if $(LOESUNG),--loesung) $(if $(EPOCHEN),--epochen $(EPOCHEN)) $(if $(VERWALTUNG),--verwaltung)
endif

clean:
	rm -rf $(BUILDDIR)
