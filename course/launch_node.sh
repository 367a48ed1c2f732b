#!/usr/bin/env bash
# Startet die verteilte Trainingsdemo auf einem von mehreren Rechnern (Knoten). Auf jedem Knoten
# denselben Aufruf; torchrun findet die anderen über den Rendezvous-Punkt HAUPTKNOTEN:
#
#   KNOTEN=2 HAUPTKNOTEN=rechner1:29500 LAUF=versuch-1 course/launch_node.sh --ordner /gemeinsam/ckpt
#
#   KNOTEN              Zahl der Rechner (Pflicht)
#   HAUPTKNOTEN         Rechner:Port für das Rendezvous, auf allen Knoten gleich (Pflicht)
#   LAUF                Kennung des Laufs, auf allen Knoten gleich (Pflicht)
#   PROZESSE_JE_KNOTEN  Ränge je Rechner, etwa einer je GPU (Standard: 1)
#
# Alle weiteren Argumente gehen an die Demo, vor allem --ordner: ein Ordner auf einem Speicher, den
# alle Knoten sehen. Jeder Rang schreibt dort seine Datei, Rang 0 zuletzt die Datei .metadata.
set -euo pipefail
exec torchrun \
    --nnodes="${KNOTEN:?Zahl der Rechner fehlt: KNOTEN=...}" \
    --nproc-per-node="${PROZESSE_JE_KNOTEN:-1}" \
    --rdzv-backend=c10d \
    --rdzv-endpoint="${HAUPTKNOTEN:?Rendezvous fehlt: HAUPTKNOTEN=rechner:port}" \
    --rdzv-id="${LAUF:?Kennung des Laufs fehlt: LAUF=...}" \
    -m course.distributed_training "$@"
