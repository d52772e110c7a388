"""Loading the runtime (what every backend's first dbt_learn call does) imports neither scikit-learn nor scipy nor
pandas: those come with the estimator a call unpickles or builds, and only then. Checked in a fresh interpreter,
since this test process has long imported them."""

import json
import subprocess
import sys

import pytest

HEAVY = ("sklearn", "scipy", "pandas", "joblib")


def _imported_by(statement):
    code = (f"import sys, json\n{statement}\n"
            f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r}))))")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("statement", ["import dbt_learn._in_database", "import dbt_learn.sql_functions",
                                       "import dbt_learn",
                                       "import dbt_learn.preprocessing, dbt_learn.registry, dbt_learn.scoring"])
def test_loading_the_runtime_imports_no_heavy_library(statement):
    assert _imported_by(statement) == []


def test_the_preprocessing_parts_still_load_on_first_use():
    # The lazy re-export still hands out the classes (and then, of course, scikit-learn is imported).
    assert "sklearn" in _imported_by("from dbt_learn.preprocessing import CategoryEncoder, DateTimeParts, describe\n"
                                     "assert CategoryEncoder.__module__ == 'dbt_learn._preprocessing_parts'")


def test_an_unknown_name_is_still_an_attribute_error():
    import dbt_learn.preprocessing as preprocessing

    with pytest.raises(AttributeError):
        preprocessing.NoSuchThing  # noqa: B018
