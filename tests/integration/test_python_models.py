"""dbt Python models with materialized='ml_train' run inside Postgres; their errors point at the user's file."""

import numpy as np

from .conftest import latest_version, query

BROKEN = '''from sklearn.linear_model import LinearRegression


def model(dbt, session):
    dbt.config(materialized="ml_train", meta={"target": "y"})
    frame = dbt.ref("linear_training")
    ratio = len(frame) / 0
    return LinearRegression()
'''

FITTED = '''from sklearn.linear_model import LinearRegression


def model(dbt, session):
    dbt.config(materialized="ml_train", meta={"target": "y", "id_columns": ["id"]})
    frame = dbt.ref("linear_training")
    # fitted here, on x1 only: dbt_learn registers it as it is
    return LinearRegression().fit(frame[["x1"]], frame["y"])
'''


def _run(project, name, code, *extra):
    return project.dbt_with({f"models/py/{name}.py": code}, "run", "-s", name, *extra)


def test_an_error_in_model_code_names_the_users_file_and_line(project):
    result = _run(project, "broken_py_model", BROKEN)
    assert not result.success
    message = result.message("broken_py_model")
    assert "models/py/broken_py_model.py, line 7, in model" in message
    assert "ratio = len(frame) / 0" in message
    assert "ZeroDivisionError" in message


def test_returning_something_else_than_an_estimator_is_a_clear_error(project):
    result = _run(project, "not_an_estimator", BROKEN.replace("ratio = len(frame) / 0", "return frame"))
    assert not result.success
    assert "must return a scikit-learn estimator" in result.message("not_an_estimator")
    assert "returned DataFrame" in result.message("not_an_estimator")


def test_an_unfitted_estimator_without_a_target_is_a_clear_error(project):
    code = BROKEN.replace('meta={"target": "y"}', "meta={}").replace("    ratio = len(frame) / 0\n", "")
    result = _run(project, "no_target_py_model", code)
    assert not result.success
    assert "set meta.target" in result.message("no_target_py_model")


def test_a_fitted_estimator_is_registered_as_returned_and_scores_by_feature_name(project, dbt_conn):
    result = project.dbt_with({
        "models/py/fitted_py_scores.sql":
            "select * from {{ dbt_learn.ml_score(ref('fitted_py_model'), ref('linear_new')) }}",
        "models/py/fitted_py_model.py": FITTED,
    }, "run", "-s", "fitted_py_model", "fitted_py_scores")
    assert result.success, result.output
    features, metrics = query(dbt_conn, """select features, metrics from dbt_learn.model_versions
                                           where model_schema = %s and model_name = 'fitted_py_model'""",
                              [project.schema])[0]
    assert [f["name"] for f in features] == ["x1"]
    assert "training rows" in metrics["evaluated_on"]

    training = np.array(query(dbt_conn, f'select x1, y from "{project.schema}".linear_training order by id'))
    slope, intercept = np.polyfit(training[:, 0], training[:, 1], 1)
    scored = query(dbt_conn, f"""select s.prediction, n.x1 from "{project.schema}".fitted_py_scores s
                                 join "{project.schema}".linear_new n using (id)""")
    np.testing.assert_allclose([p for p, _ in scored], [slope * x + intercept for _, x in scored], atol=1e-9)


def test_python_model_retrains_only_when_its_code_or_data_changed_or_on_full_refresh(project, dbt_conn):
    before = latest_version(dbt_conn, project.schema, "python_label_model")
    unchanged = project.dbt("run", "-s", "python_label_model")
    assert unchanged.success, unchanged.output
    assert latest_version(dbt_conn, project.schema, "python_label_model") == before
    assert "training data and configuration unchanged" in unchanged.output
    forced = project.dbt("run", "-s", "python_label_model", "--full-refresh")
    assert forced.success, forced.output
    assert latest_version(dbt_conn, project.schema, "python_label_model") == before + 1


CATEGORICAL = '''from sklearn.compose import make_column_transformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.tree import DecisionTreeClassifier


def model(dbt, session):
    dbt.config(materialized="ml_train", meta={"target": "label", "id_columns": ["id"], "holdout_size": 0})
    dbt.ref("banded_rows")
    encode = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["band"]), remainder="drop")
    return make_pipeline(encode, DecisionTreeClassifier(random_state=0))
'''
BANDED = "select id, label, case when a >= 5 then 'wide' else 'narrow' end as band from {{ ref('labels_training') }}"
BANDED_NEW = "select id, case when a >= 5 then 'wide' else 'narrow' end as band from {{ ref('labels_new') }}"


def test_a_pipeline_with_a_text_feature_trains_and_scores(project, dbt_conn):
    files = {"models/py/banded_rows.sql": BANDED, "models/py/banded_new.sql": BANDED_NEW,
             "models/py/banded_model.py": CATEGORICAL,
             "models/py/banded_scores.sql":
                 "select id, prediction from {{ dbt_learn.ml_score(ref('banded_model'), ref('banded_new')) }}"}
    result = project.dbt_with(files, "run", "-s", "+banded_scores")
    assert result.success, result.output
    features = query(dbt_conn, """select features from dbt_learn.model_versions
                                  where model_schema = %s and model_name = 'banded_model'""", [project.schema])[0][0]
    assert features == [{"name": "band", "type": "text", "kind": "categorical"}]
    scored = query(dbt_conn, f'select id, prediction from "{project.schema}".banded_scores order by id')
    expected = query(dbt_conn, f'select id, prediction from "{project.schema}".expected_label_scores order by id')
    assert scored == expected


def test_train_python_itself_refuses_when_the_install_does_not_allow_python_models(project, admin_conn, dbt_conn):
    """Not only the macro: a role that kept EXECUTE from an earlier install still cannot run model code."""
    admin_conn.execute("update dbt_learn.installation set python_models_allowed = false")
    try:
        macro_result = _run(project, "refused_py_model", FITTED)
        direct = query(dbt_conn, "select dbt_learn.train_python(%s, 'refused', '{}'::jsonb, %s, 'models/x.py')",
                       [project.schema, "raise SystemExit('model code ran')"])[0][0]
    finally:
        admin_conn.execute("update dbt_learn.installation set python_models_allowed = true")
    assert not macro_result.success
    assert "does not allow Python models" in macro_result.message("refused_py_model")
    assert "does not allow Python models" in direct["error"]
