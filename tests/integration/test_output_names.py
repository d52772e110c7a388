"""A carried column named like a column that ml_score (or ml_recommend) adds would appear twice in the scores, and
the table build failed with Postgres' 'column specified more than once'. It is refused at compile time, naming the
column and saying how to rename it; the previous scores table and the registry stay as they were."""

import pytest

from .conftest import latest_version, query

REGRESSOR = """{{ config(materialized='ml_train', meta={'target': 'y', 'algorithm': 'linear_regression',
                                   'id_columns': ['id']}) }}
select * from {{ ref('linear_training') }}
"""
CLASSIFIER = """{{ config(materialized='ml_train', meta={'target': 'label', 'algorithm': 'decision_tree_classifier',
                                   'id_columns': ['id'], 'holdout_size': 0}) }}
select * from {{ ref('labels_training') }}
"""
SCORES = """{{{{ config(materialized='table') }}}}
select * from {{{{ dbt_learn.ml_score(ref('{model}'), adapter.get_relation(this.database, this.schema, '{table}'),
                                    {arguments}) }}}}
"""
GOOD_SCORES = SCORES.format(model="names_regressor", table="names_input", arguments="id_columns=['id']")
MODELS = ("names_regressor", "names_classifier")
ADDED = "prediction, model_version, scored_at, or any name starting with __dbt_learn_"


@pytest.fixture(scope="module")
def named(project, dbt_conn):
    """Two models trained once, scoring inputs with columns named like ml_score's outputs, and names_scores built."""
    schema = project.schema
    project.write("models/output_names/names_regressor.sql", REGRESSOR)
    project.write("models/output_names/names_classifier.sql", CLASSIFIER)
    project.write("models/output_names/names_scores.sql", GOOD_SCORES)
    dbt_conn.execute(f"""create table "{schema}".names_input as
        select id, x1, x2, id as scored_at, id as prediction, id as model_version, id as explanation,
               id as "__dbt_learn_row", id as "Scored_At"
        from "{schema}".linear_new""")
    dbt_conn.execute(f"""create table "{schema}".names_labels_input as
        select id, a, b, id as probability_high from "{schema}".labels_new""")
    result = project.dbt("run", "-s", *MODELS, "names_scores")
    assert result.success, result.output
    yield project
    for name in (*MODELS, "names_scores"):
        project.remove(f"models/output_names/{name}.sql")


def _scores(conn, schema):
    return query(conn, f'select id, prediction, model_version, scored_at from "{schema}".names_scores order by id')


def _versions(conn, schema):
    return [latest_version(conn, schema, model) for model in MODELS]


CLASHES = {
    "id_named_scored_at": (
        "names_regressor", "names_input", "id_columns=['scored_at']",
        ["dbt_learn: ml_score(names_scores): model 'names_regressor': id column 'scored_at' of ",
         f"has the name of a column ml_score adds ({ADDED}), so the scores would have it twice; rename it in the "
         "scored relation (e.g. select scored_at as source_scored_at) and pass the new name as id_columns"]),
    "id_named_prediction_beside_another": (
        "names_regressor", "names_input", "id_columns=['id', 'prediction']",
        ["model 'names_regressor': id column 'prediction' of", "select prediction as source_prediction"]),
    "changed_column_named_model_version": (
        "names_regressor", "names_input", "id_columns=['id'], changed_column='model_version'",
        ["model 'names_regressor': changed_column 'model_version' of",
         "select model_version as source_model_version) and pass the new name as changed_column."]),
    "id_named_explanation_with_explain": (
        "names_regressor", "names_input", "id_columns=['explanation'], explain=1",
        ["id column 'explanation' of", "(prediction, explanation, model_version, scored_at, or any name"]),
    "id_with_the_internal_prefix": (
        "names_regressor", "names_input", "id_columns=['__dbt_learn_row']",
        ["id column '__dbt_learn_row' of", "or any name starting with __dbt_learn_"]),
    "id_named_like_a_probability_column": (
        "names_classifier", "names_labels_input", "id_columns=['probability_high']",
        ["model 'names_classifier': id column 'probability_high' of",
         "(prediction, probability_high, probability_low, model_version, scored_at,",
         "select probability_high as source_probability_high"]),
    "id_listed_twice": (
        "names_regressor", "names_input", "id_columns=['id', 'id']",
        ["model 'names_regressor': id column 'id' is listed twice in id_columns, so the scores would have it twice; "
         "list it once."]),
}


@pytest.mark.parametrize("case", CLASHES, ids=list(CLASHES))
def test_a_carried_column_named_like_an_output_is_refused_and_changes_nothing(named, dbt_conn, case):
    model, table, arguments, expected = CLASHES[case]
    schema = named.schema
    scores_before, versions_before = _scores(dbt_conn, schema), _versions(dbt_conn, schema)
    named.write("models/output_names/names_scores.sql", SCORES.format(model=model, table=table, arguments=arguments))
    try:
        result = named.dbt("run", "-s", "names_scores")
    finally:
        named.write("models/output_names/names_scores.sql", GOOD_SCORES)
    assert not result.success
    message = result.message("names_scores")
    for fragment in expected:
        assert fragment in message, message
    assert "specified more than once" not in result.output and "Traceback" not in result.output
    assert _scores(dbt_conn, schema) == scores_before
    assert _versions(dbt_conn, schema) == versions_before


def test_a_name_that_differs_only_in_case_is_not_a_clash(named, dbt_conn):
    sql = SCORES.format(model="names_regressor", table="names_input", arguments="id_columns=['Scored_At']")
    result = named.dbt_with({"models/output_names/names_mixed_case_scores.sql": sql},
                            "run", "-s", "names_mixed_case_scores")
    assert result.success, result.output
    rows = query(dbt_conn, f'select "Scored_At", prediction, scored_at from "{named.schema}".names_mixed_case_scores')
    assert len(rows) == len(_scores(dbt_conn, named.schema)) and all(row[1] is not None for row in rows)


RECOMMENDER = """{{ config(materialized='ml_train', meta={
    'task': 'recommendation', 'user_column': 'user_id', 'item_column': 'score', 'algorithm': 'truncated_svd',
    'params': {'n_components': 3}}) }}
select user_id, item_code as score from {{ ref('rec_training') }}
"""


def test_ml_recommend_refuses_an_item_column_named_like_an_output(named, dbt_conn):
    recommendations = ("{{ config(materialized='table') }}\nselect * from {{ dbt_learn.ml_recommend("
                       "ref('names_recommender'), ref('rec_scoring_users'), k=2) }}")
    trained = named.dbt_with({"models/output_names/names_recommender.sql": RECOMMENDER},
                             "run", "-s", "names_recommender")
    assert trained.success, trained.output
    version = latest_version(dbt_conn, named.schema, "names_recommender")
    result = named.dbt_with({"models/output_names/names_recommender.sql": RECOMMENDER,
                             "models/output_names/names_recommendations.sql": recommendations},
                            "run", "-s", "names_recommendations")
    assert not result.success
    message = result.message("names_recommendations")
    assert ("with model 'names_recommender' v1: the model's item column 'score' has the name of a column "
            "ml_recommend adds (rank, score, model_version, scored_at), so the recommendations would have it twice; "
            "rename it in the model's training relation (e.g. select score as item_score), set meta.item_column to "
            "the new name and retrain.") in message, message
    assert latest_version(dbt_conn, named.schema, "names_recommender") == version
    assert not query(dbt_conn, "select 1 from information_schema.tables where table_schema = %s and "
                               "table_name = 'names_recommendations'", [named.schema])


def test_ml_recommend_refuses_a_user_column_named_like_an_output(named):
    sql = ("select * from {{ dbt_learn.ml_recommend(ref('rec_implicit'), ref('names_users'), "
           "user_column='scored_at') }}")
    result = named.dbt_with({"models/output_names/names_users.sql":
                             "select user_id as scored_at from {{ ref('rec_scoring_users') }}",
                             "models/output_names/names_user_clash.sql": sql},
                            "run", "-s", "names_users", "names_user_clash")
    assert not result.success
    message = result.message("names_user_clash")
    assert ("user column 'scored_at' has the name of an output column (item_code, rank, score, model_version, "
            "scored_at), so the recommendations would have it twice; rename it in the relation (e.g. select "
            "scored_at as source_scored_at) and pass the new name as user_column.") in message, message
