#!/usr/bin/env bash
# Build the model artifacts the services load at start, only when they are missing.
set -euo pipefail
BIN=.venv/bin
if [ -x "$BIN/hotel-audio" ]; then
  "$BIN/hotel-audio" prepare-model
fi
if [ -x "$BIN/hotel-nlp" ]; then
  "$BIN/hotel-nlp" train --if-missing
fi
