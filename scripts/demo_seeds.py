"""Write the demo's seeds from data sets that ship inside scikit-learn (no download): breast cancer and diabetes, and
a replayed screening stream of the breast-cancer patients the classifier never saw.

The stream is real rows in made-up time: `screenings` holds SCREENINGS_PER_DAY screenings a day for DAYS days,
sampled with replacement from the held-out patients; a few events fire twice (the same screening_id, seconds apart).
`biopsy_results` holds a confirmation for each malignant screening, 1-10 hours later: the only outcome that ever
arrives, so a screening without one is benign once the maturity period has passed. From CHANGE_DAY on, a recalibrated
scanner reports every measurement SCANNER_FACTOR times larger: the features drift and the model, trained on the old
scanner, starts to misread them.
"""

import pathlib
import re
import sys

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_diabetes

STREAM_START = pd.Timestamp("2026-10-01T00:00:00Z")
DAYS = 10
CHANGE_DAY = 7  # the first day (1-based) measured by the recalibrated scanner
SCREENINGS_PER_DAY = 240
DUPLICATE_SHARE = 0.04
SCANNER_FACTOR = 1.35


def _snake(name):
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def breast_cancer_frame():
    cancer = load_breast_cancer(as_frame=True).frame
    cancer.columns = [_snake(c) for c in cancer.columns]
    cancer.insert(0, "patient_id", range(1, len(cancer) + 1))
    cancer["diagnosis"] = cancer.pop("target").map({0: "malignant", 1: "benign"})
    return cancer


def screening_stream(cancer, seed=20261001):
    """(screenings, biopsy_results) for the patients with an odd id, who are not in the training view."""
    rng = np.random.default_rng(seed)
    pool = cancer[cancer.patient_id % 2 == 1].reset_index(drop=True)
    features = [c for c in cancer.columns if c not in ("patient_id", "diagnosis")]
    days = []
    for day in range(1, DAYS + 1):
        rows = pool.iloc[rng.integers(0, len(pool), SCREENINGS_PER_DAY)].copy()
        offsets = np.sort(rng.uniform(0, 86400, SCREENINGS_PER_DAY))
        rows["screened_at"] = STREAM_START + pd.Timedelta(days=day - 1) + pd.to_timedelta(offsets.round(), unit="s")
        if day >= CHANGE_DAY:
            rows[features] = (rows[features] * SCANNER_FACTOR).round(6)
        days.append(rows)
    stream = pd.concat(days, ignore_index=True)
    stream.insert(0, "screening_id", range(1, len(stream) + 1))
    twice = stream.sample(frac=DUPLICATE_SHARE, random_state=seed).copy()
    twice["screened_at"] += pd.to_timedelta(rng.integers(1, 90, len(twice)), unit="s")
    malignant = stream[stream.diagnosis == "malignant"]
    biopsies = pd.DataFrame({
        "screening_id": malignant.screening_id,
        "diagnosis": "malignant",
        "confirmed_at": malignant.screened_at + pd.to_timedelta(rng.uniform(3600, 36000, len(malignant)).round(),
                                                                unit="s"),
    })
    screenings = pd.concat([stream, twice]).drop(columns="diagnosis").sort_values(["screened_at", "screening_id"])
    return screenings, biopsies.sort_values("confirmed_at")


def main(seed_dir):
    seed_dir = pathlib.Path(seed_dir)
    seed_dir.mkdir(parents=True, exist_ok=True)

    cancer = breast_cancer_frame()
    cancer.to_csv(seed_dir / "breast_cancer.csv", index=False)
    screenings, biopsies = screening_stream(cancer)
    screenings.to_csv(seed_dir / "screenings.csv", index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    biopsies.to_csv(seed_dir / "biopsy_results.csv", index=False, date_format="%Y-%m-%dT%H:%M:%SZ")

    diabetes = load_diabetes(as_frame=True, scaled=False).frame
    diabetes = diabetes.rename(columns={"bp": "blood_pressure", "target": "disease_progression"})
    diabetes.insert(0, "patient_id", range(1, len(diabetes) + 1))
    diabetes.to_csv(seed_dir / "diabetes.csv", index=False)
    print(f"dbt_learn demo: wrote {len(cancer)} breast cancer, {len(screenings)} screening, {len(biopsies)} biopsy "
          f"and {len(diabetes)} diabetes rows to {seed_dir}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent / "demo" / "seeds")
