"""The file names inside a run folder, written once so every layer agrees."""

TRAJECTORY = "trajectory.h5"
THERMO = "thermo.csv"
CHECKPOINT = "checkpoint.npz"
OUTCOME = "outcome.json"
RESULTS = "results.json"
INPUT_STRUCTURE = "input.extxyz"
