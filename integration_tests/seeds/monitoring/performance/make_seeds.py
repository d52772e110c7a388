"""Writes the PERF seeds (run once: python make_seeds.py; dbt reads only the .csv files). Shaped like the output
of ml_label_predictions, labels as known on 2024-03-03 00:00 UTC. Fixed random seed, so the files are stable."""

import csv
import pathlib

import numpy as np

HERE = pathlib.Path(__file__).parent
START = np.datetime64("2024-03-01T00:00")
STATUSES = ["labelled", "assumed_negative", "unlabelled", "outcome_before_decision"]


def stamp(minutes):
    return str(START + np.timedelta64(int(minutes), "m")).replace("T", " ") + ":00+00"


def status_and_label(rng, minutes, positive, end_minutes, maturity=6 * 60):
    if minutes > end_minutes - maturity:
        return "pending", ""
    status = rng.choice(STATUSES, p=[0.8, 0.1, 0.07, 0.03])
    label = {"labelled": positive, "assumed_negative": "false"}.get(status, "")
    return status, label


def binary(rng):
    """Two days of a lead-conversion classifier; no decisions from 10:00 to 14:00 on day one (empty windows), and
    14:00-15:00 holds three negatives only (a window with one class: roc_auc, precision and recall undefined)."""
    rows = []
    minutes = np.sort(rng.integers(0, 48 * 60, 720))
    minutes = minutes[(minutes < 600) | (minutes >= 900)]
    minutes = np.concatenate([minutes, [845, 850, 855]])
    for i, m in enumerate(np.sort(minutes)):
        p = float(np.clip(np.round(rng.beta(2, 2.5), 3), 0.001, 0.998))
        lonely = 840 <= m < 900
        converted = False if lonely else rng.random() < min(1.0, p * 1.1)
        status, label = status_and_label(rng, m, "true" if converted else "false", 48 * 60)
        if lonely:
            status, label = "labelled", "false"
            p = round(0.1 + 0.1 * (m - 845) / 5, 3)
        prediction = p >= 0.5 if rng.random() > 0.05 else p < 0.5  # a few predictions at another threshold
        segment = rng.choice(["web", "store", ""], p=[0.5, 0.35, 0.15])
        rows.append([f"lead_{i:04d}", stamp(m), 1 + (m > 30 * 60), str(prediction).lower(), f"{p:.3f}",
                     f"{1 - p:.3f}", label, status, str(status != "pending").lower(), segment])
    return ["key", "decided_at", "model_version", "prediction", "probability_true", "probability_false", "label",
            "label_status", "is_matured", "segment"], rows


def regression(rng):
    rows = []
    for i, m in enumerate(np.sort(rng.integers(0, 24 * 60, 200))):
        truth = rng.normal(50, 10)
        status, label = status_and_label(rng, m, f"{truth:.2f}", 24 * 60)
        label = "" if status in ("unlabelled", "outcome_before_decision") else f"{truth:.2f}"
        label = "0.00" if status == "assumed_negative" else label
        rows.append([f"order_{i:04d}", stamp(m), 1, f"{truth + rng.normal(1, 4):.2f}", label, status,
                     str(status != "pending").lower()])
    return ["key", "decided_at", "model_version", "prediction", "label", "label_status", "is_matured"], rows


def multiclass(rng):
    rows = []
    for i, m in enumerate(np.sort(rng.integers(0, 72 * 60, 240))):
        raw = rng.dirichlet([1, 1, 1])
        probabilities = np.round(raw, 3)
        probabilities[2] = round(1 - probabilities[0] - probabilities[1], 3)
        truth = "abc"[rng.choice(3, p=raw)]
        status, label = status_and_label(rng, m, truth, 72 * 60)
        label = "" if status != "labelled" else label
        rows.append([f"ticket_{i:04d}", stamp(m), 1, "abc"[int(np.argmax(probabilities))],
                     *[f"{v:.3f}" for v in probabilities], label, status, str(status != "pending").lower()])
    return ["key", "decided_at", "model_version", "prediction", "probability_a", "probability_b", "probability_c",
            "label", "label_status", "is_matured"], rows


if __name__ == "__main__":
    rng = np.random.default_rng(9)
    for name, make in [("perf_labelled", binary), ("perf_regression_labelled", regression),
                       ("perf_multiclass_labelled", multiclass)]:
        header, rows = make(rng)
        with open(HERE / f"{name}.csv", "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows([header, *rows])
