#!/bin/bash
# Die verteilte Trainingsdemo als Slurm-Job auf mehreren Rechnern: sbatch course/slurm_job.sh
#SBATCH --job-name=verteilt
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1
#SBATCH --cpus-per-task=8
#SBATCH --time=04:00:00
#SBATCH --signal=B:TERM@300
#SBATCH --requeue
#SBATCH --output=verteilt-%j.out
set -euo pipefail

# Auf einem Speicher, den alle Rechner sehen (etwa $HOME oder /scratch):
ORDNER=${ORDNER:-$HOME/checkpoints/verteilt}
PROZESSE_JE_KNOTEN=${PROZESSE_JE_KNOTEN:-2}  # Ränge je Rechner, etwa einer je GPU
PORT=${PORT:-29500}
# Der erste Rechner der Zuteilung. sed liest die ganze Liste; head -n 1 beendete die Pipe vorzeitig,
# und mit pipefail endete das Skript dann am SIGPIPE von scontrol.
HAUPTKNOTEN=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | sed -n 1p)

# srun startet torchrun einmal je Rechner (--ntasks-per-node=1), torchrun startet die Ränge.
srun torchrun \
    --nnodes="$SLURM_JOB_NUM_NODES" \
    --nproc-per-node="$PROZESSE_JE_KNOTEN" \
    --rdzv-backend=c10d \
    --rdzv-endpoint="$HAUPTKNOTEN:$PORT" \
    --rdzv-id="$SLURM_JOB_ID" \
    --shutdown-timeout=240 \
    -m course.distributed_training --ordner "$ORDNER" "$@" &
TRAINING=$!

# --signal=B:TERM@300 schickt SIGTERM nur an dieses Skript. Es gibt das Signal an srun weiter (srun
# an torchrun, torchrun an die Ränge), wartet, bis die Ränge gespeichert haben, und stellt den Job
# wieder in die Warteschlange; der nächste Start setzt vom neuesten Checkpoint fort.
unterbrechen() {
    echo "SIGTERM: Das Training speichert und endet; der Job kommt wieder in die Warteschlange."
    kill -TERM "$TRAINING"
    wait "$TRAINING" || true
    scontrol requeue "$SLURM_JOB_ID"
    exit 0
}
trap unterbrechen TERM
wait "$TRAINING"
