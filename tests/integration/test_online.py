"""Row-level scoring: dbt_learn.predict / predict_class / predict_proba and the ml_predict macro agree with the
batch scores of ml_score, use the serving version, and refuse bad calls with a message that says what to do."""

import numpy as np
import psycopg
import pytest

from .conftest import query

VIEW = """{{ config(materialized='view') }}
select n.id,
       {{ dbt_learn.ml_predict(ref('linear_model'), 'n') }} as linear_prediction
from {{ ref('linear_new') }} as n
"""
LABEL_VIEW = """{{ config(materialized='view') }}
select n.id,
       {{ dbt_learn.ml_predict(ref('label_model'), 'n', output='class') }} as label,
       {{ dbt_learn.ml_predict(ref('label_model'), 'n', output='probabilities') }} as probabilities
from {{ ref('labels_new') }} as n
"""


@pytest.fixture(scope="module")
def online_views(project):
    project.write("models/online/linear_online.sql", VIEW)
    project.write("models/online/label_online.sql", LABEL_VIEW)
    result = project.dbt("run", "-s", "linear_online", "label_online")
    assert result.success, result.output
    yield
    project.remove("models/online/linear_online.sql")
    project.remove("models/online/label_online.sql")


def test_a_view_scoring_row_by_row_matches_the_batch_scores(project, dbt_conn, online_views):
    schema = project.schema
    rows = query(dbt_conn, f"""select o.linear_prediction, s.prediction from "{schema}".linear_online o
                               join "{schema}".linear_scores s using (id) order by id""")
    assert len(rows) == 12
    np.testing.assert_allclose([r[0] for r in rows], [r[1] for r in rows], rtol=0, atol=1e-9)


def test_classifier_rows_give_the_label_and_the_probabilities_in_class_order(project, dbt_conn, online_views):
    schema = project.schema
    rows = query(dbt_conn, f"""select o.label, o.probabilities, s.* from "{schema}".label_online o
                               join "{schema}".label_scores s using (id) order by id""")
    columns = [d.name for d in dbt_conn.execute(f'select * from "{schema}".label_scores limit 0').description]
    probability_columns = [c for c in columns if c.startswith("probability_")]
    assert rows
    for label, probabilities, *scored in rows:
        batch = dict(zip(columns, scored))
        assert label == batch["prediction"]
        np.testing.assert_allclose(probabilities, [batch[c] for c in probability_columns], rtol=0, atol=1e-12)


def test_row_level_predict_refuses_bad_calls_with_what_to_do(project, dbt_conn):
    schema = project.schema
    with pytest.raises(psycopg.errors.InternalError_, match=r"got 1 feature values, the model takes 2"):
        dbt_conn.execute("select dbt_learn.predict(%s, 'linear_model', 1.0)", [schema])
    with pytest.raises(psycopg.errors.InternalError_, match=r"is a classifier: use dbt_learn.predict_class"):
        dbt_conn.execute("select dbt_learn.predict(%s, 'label_model', 1, 2)", [schema])
    with pytest.raises(psycopg.errors.InternalError_, match=r"no trained version"):
        dbt_conn.execute("select dbt_learn.predict(%s, 'no_such_model', 1, 2)", [schema])


def test_row_level_predict_follows_a_new_version_and_a_rollback_at_once(project, dbt_conn):
    """The estimator is cached per connection by version, never by name: the next call sees a deployment change."""
    schema, path = project.schema, "models/online/online_model.sql"
    model = """{{{{ config(materialized='ml_train', meta={{'target': 'y', 'algorithm': 'linear_regression',
        'params': {params}, 'id_columns': ['id'], 'holdout_size': 0}}) }}}}
select * from {{{{ ref('linear_training') }}}}"""

    def predict():
        return query(dbt_conn, "select dbt_learn.predict(%s, 'online_model', 1, 1)", [schema])[0][0]

    first = project.dbt_with({path: model.format(params="{}")}, "run", "-s", "online_model")
    assert first.success, first.output
    with_intercept = predict()
    assert with_intercept == pytest.approx(1 + 2 - 3, abs=1e-9)  # y = 1 + 2 x1 - 3 x2 exactly
    second = project.dbt_with({path: model.format(params="{'fit_intercept': False}")}, "run", "-s", "online_model")
    assert second.success, second.output
    assert predict() != pytest.approx(with_intercept, abs=1e-6)  # same connection: v2 now serves
    back = project.dbt_with({path: model.format(params="{'fit_intercept': False}")}, "run-operation",
                            "dbt_learn.rollback", "--args", "{model: online_model}")
    assert back.success, back.output
    assert predict() == pytest.approx(with_intercept, abs=1e-9)
