"""Write the demo's seeds from data sets that ship inside scikit-learn (no download): breast cancer and diabetes."""

import pathlib
import re
import sys

from sklearn.datasets import load_breast_cancer, load_diabetes


def _snake(name):
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def main(seed_dir):
    seed_dir = pathlib.Path(seed_dir)
    seed_dir.mkdir(parents=True, exist_ok=True)

    cancer = load_breast_cancer(as_frame=True).frame
    cancer.columns = [_snake(c) for c in cancer.columns]
    cancer.insert(0, "patient_id", range(1, len(cancer) + 1))
    cancer["diagnosis"] = cancer.pop("target").map({0: "malignant", 1: "benign"})
    cancer.to_csv(seed_dir / "breast_cancer.csv", index=False)

    diabetes = load_diabetes(as_frame=True, scaled=False).frame
    diabetes = diabetes.rename(columns={"bp": "blood_pressure", "target": "disease_progression"})
    diabetes.insert(0, "patient_id", range(1, len(diabetes) + 1))
    diabetes.to_csv(seed_dir / "diabetes.csv", index=False)
    print(f"dbt_learn demo: wrote {len(cancer)} breast cancer and {len(diabetes)} diabetes rows to {seed_dir}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent / "demo" / "seeds")
