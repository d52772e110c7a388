"""meta.task 'recommendation' end to end through dbt: the seed rec_interactions, the ml_train recommenders and
ml_recommend (integration_tests/models/recommendation), checked against offline scikit-learn on the same matrix."""

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import TruncatedSVD
from sklearn.metrics import ndcg_score

from dbt_learn import serialization
from dbt_learn.recommendation import build_interactions, entries, holdout_entries

from .conftest import query
from .harness import REPO, DbtProject, fresh_schema

pytestmark = pytest.mark.integration
K = 5


@pytest.fixture(scope="module")
def rec(tmp_path_factory, admin_conn):
    """Only the recommendation seed and models, built into a fresh schema."""
    schema = fresh_schema("rec")
    project = DbtProject(REPO / "integration_tests", tmp_path_factory.mktemp("rec"), schema)
    project.build = project.dbt("build", "--select", "path:seeds/recommendation", "path:models/recommendation")
    yield project
    for suffix in ("", "_dbt_learn_registry"):
        admin_conn.execute(f'drop schema if exists "{schema}{suffix}" cascade')


@pytest.fixture(scope="module")
def interactions(rec, dbt_conn):
    rows = query(dbt_conn, f'select user_id, item_code, rating from "{rec.schema}".rec_interactions')
    return pd.DataFrame(rows, columns=["user_id", "item_code", "rating"])


def offline_matrix(frame):
    """The implicit user x item count matrix, rows and columns in text order (as the runtime sorts them)."""
    counts = frame.assign(user=frame.user_id.astype(str)).groupby(["user", "item_code"]).size().unstack(fill_value=0)
    return counts.sort_index().sort_index(axis=1)


def brute_top(scores, seen, k):
    """Per row: the k best unseen columns, score descending then column ascending."""
    return [sorted((column for column in range(len(row)) if not row_seen[column]),
                   key=lambda column: (-row[column], column))[:k] for row, row_seen in zip(scores, seen)]


def version_row(conn, schema, model):
    return query(conn, "select version, metrics, evaluation, features, algorithm, artifact_sha256 from "
                       "dbt_learn.model_versions where model_schema = %s and model_name = %s order by version desc "
                       "limit 1", [schema, model])[0]


def test_the_recommendation_models_build_and_their_tests_pass(rec):
    assert rec.build.success, rec.build.output
    assert not [m for m in rec.build.messages if m.startswith("[warn]") or "eprecat" in m]
    assert rec.build.status("rec_implicit_ndcg_at_k_at_least_0_3") == "pass"
    assert rec.build.status("rec_ratings_ndcg_at_k_at_least_0_3") == "pass"


def test_recommendations_equal_offline_truncated_svd(rec, dbt_conn, interactions):
    matrix = offline_matrix(interactions)
    svd = TruncatedSVD(n_components=5, random_state=0)
    scores = svd.fit_transform(matrix.to_numpy(dtype=float)) @ svd.components_
    expected = brute_top(scores, matrix.to_numpy() > 0, K)
    rows = query(dbt_conn, f'select user_id, item_code, rank, score from "{rec.schema}".rec_recommendations '
                           f'order by user_id, rank')
    got = pd.DataFrame(rows, columns=["user_id", "item_code", "rank", "score"])
    known = got[got.user_id < 9000]
    assert sorted(known.user_id.unique().astype(str)) == list(matrix.index)
    for position, (user, group) in enumerate(known.groupby(known.user_id.astype(str))):
        row = matrix.index.get_loc(user)
        assert list(group["rank"]) == list(range(1, K + 1))
        assert list(group.item_code) == [matrix.columns[c] for c in expected[row]]
        np.testing.assert_allclose(group.score, scores[row, expected[row]], rtol=1e-7, atol=1e-9)
        assert not set(group.item_code) & set(interactions.item_code[interactions.user_id.astype(str) == user])
    # Cold start: the unknown users get the items most users had (ties: item order); the NULL user nothing.
    share = (matrix > 0).sum(axis=0) / len(matrix)
    popular = sorted(range(len(share)), key=lambda c: (-share.iloc[c], c))[:K]
    for user in (9001, 9002):
        cold = got[got.user_id == user]
        assert list(cold.item_code) == [matrix.columns[c] for c in popular]
        np.testing.assert_allclose(cold.score, share.iloc[popular])
    assert got.user_id.notna().all() and set(got.user_id[got.user_id > 9000]) == {9001, 9002}


def test_output_columns_are_typed_like_the_training_columns(rec, dbt_conn):
    types = dict(query(dbt_conn, "select column_name, data_type from information_schema.columns "
                                 "where table_schema = %s and table_name = 'rec_recommendations'", [rec.schema]))
    assert types == {"user_id": "integer", "item_code": "text", "rank": "integer", "score": "double precision",
                     "model_version": "integer", "scored_at": "timestamp with time zone"}


def test_the_artifact_and_the_row_level_function_recommend_the_same(rec, dbt_conn, admin_conn):
    version, _, _, _, algorithm, sha256 = version_row(dbt_conn, rec.schema, "rec_implicit")
    assert algorithm == "sklearn.decomposition.TruncatedSVD"
    artifact = query(admin_conn, "select artifact from dbt_learn.model_artifacts where model_schema = %s and "
                                 "model_name = 'rec_implicit' and version = %s", [rec.schema, version])[0][0]
    recommender = serialization.load(artifact, sha256, "rec_implicit")
    table = query(dbt_conn, f'select item_code, rank, score from "{rec.schema}".rec_recommendations '
                            f'where user_id = 1000 order by rank')
    position, item, rank, score = recommender.recommend("rec_implicit", np.array(["1000"], dtype=object), K)
    assert [(recommender.items[i], int(r)) for i, r in zip(item, rank)] == [(i, r) for i, r, _ in table]
    np.testing.assert_allclose(score, [s for _, _, s in table])
    row_level = query(dbt_conn, "select item, rank, score from dbt_learn.recommend(%s, 'rec_implicit', '1000', 5)",
                      [rec.schema])
    assert [(i, r) for i, r, _ in row_level] == [(i, r) for i, r, _ in table]
    unknown = query(dbt_conn, "select item from dbt_learn.recommend(%s, 'rec_implicit', 'nobody', 3)", [rec.schema])
    assert [i for i, in unknown] == [i for i, in query(
        dbt_conn, f'select item_code from "{rec.schema}".rec_recommendations where user_id = 9001 and rank <= 3 '
                  f'order by rank')]


def test_holdout_metrics_equal_a_reference_computation(rec, dbt_conn, interactions):
    _, metrics, evaluation, *_ = version_row(dbt_conn, rec.schema, "rec_implicit")
    k = evaluation["top_k"]
    data = build_interactions("m", interactions.user_id.astype(str).to_numpy(object),
                              interactions.item_code.to_numpy(object), None, user_column="u", item_column="i",
                              rating_column=None)
    hidden = holdout_entries(data.matrix, 0.2, 0)  # the split the runtime uses (random_state 0)
    fit_part, holdout = entries(data.matrix, ~hidden).toarray(), entries(data.matrix, hidden).toarray() > 0
    svd = TruncatedSVD(n_components=5, random_state=0)
    scores = svd.fit_transform(fit_part) @ svd.components_
    users = np.flatnonzero(holdout.any(axis=1))
    top = brute_top(scores[users], fit_part[users] > 0, k)
    hits = np.array([holdout[u, t].sum() for u, t in zip(users, top)])
    assert metrics["precision_at_k"] == pytest.approx(np.mean(hits / k))
    assert metrics["recall_at_k"] == pytest.approx(np.mean(hits / holdout[users].sum(axis=1)))
    ranked = np.where(fit_part[users] > 0, scores[users].min() - 1, scores[users])  # seen items rank last
    assert metrics["ndcg_at_k"] == pytest.approx(ndcg_score(holdout[users], ranked, k=k))
    assert metrics["coverage"] == pytest.approx(len({c for t in top for c in t}) / data.matrix.shape[1])
    assert evaluation["holdout_rows"] == hidden.sum() and evaluation["users_evaluated"] == len(users)
    for model in ("rec_implicit", "rec_ratings"):
        _, metrics, evaluation, *_ = version_row(dbt_conn, rec.schema, model)
        assert metrics["ndcg_at_k"] > evaluation["baseline_popularity"]["ndcg_at_k"] + 0.05, model


def test_an_unchanged_recommender_is_not_retrained(rec, dbt_conn):
    before = version_row(dbt_conn, rec.schema, "rec_implicit")[0]
    result = rec.dbt("run", "--select", "rec_implicit")
    assert result.success, result.output
    assert "kept rec_implicit, no training: training data and configuration unchanged" in result.output
    assert version_row(dbt_conn, rec.schema, "rec_implicit")[0] == before


RECOMMENDER = """{{{{ config(materialized='ml_train', meta={meta}) }}}}
select * from (values {values}) as t (user_id, item_code, rating)
"""
GOOD_META = "{'task': 'recommendation', 'user_column': 'user_id', 'item_column': 'item_code'}"
GOOD_VALUES = "(1, 'a', 5), (1, 'b', 3), (2, 'a', 4), (2, 'c', 1), (3, 'b', 2), (3, 'c', 5)"


@pytest.mark.parametrize("name, meta, values, message", [
    ("rec_bad_null_user", GOOD_META, GOOD_VALUES + ", (null, 'a', 1)",
     "model 'rec_bad_null_user': column 'user_id' is NULL in 1 of 7 rows"),
    ("rec_bad_no_user_column", "{'task': 'recommendation', 'item_column': 'item_code'}", GOOD_VALUES,
     "model 'rec_bad_no_user_column': meta.task 'recommendation' needs meta.user_column and meta.item_column"),
    ("rec_bad_top_k", GOOD_META[:-1] + ", 'top_k': 0}", GOOD_VALUES,
     "model 'rec_bad_top_k': meta.top_k must be a positive integer"),
    ("rec_bad_algorithm", GOOD_META[:-1] + ", 'algorithm': 'random_forest_classifier'}", GOOD_VALUES,
     "'random_forest_classifier' is not a recommender; use one of truncated_svd, nmf, item_knn"),
    ("rec_bad_rating", GOOD_META[:-1] + ", 'rating_column': 'rating', 'algorithm': 'nmf'}",
     GOOD_VALUES + ", (4, 'a', -2)", "nmf factorises a non-negative matrix"),
])
def test_bad_recommenders_fail_clearly_and_register_nothing(rec, dbt_conn, name, meta, values, message):
    result = rec.dbt_with({f"models/recommendation/{name}.sql": RECOMMENDER.format(meta=meta, values=values)},
                          "run", "--select", name)
    assert not result.success
    assert message in result.output
    assert "Traceback" not in result.output
    assert query(dbt_conn, "select count(*) from dbt_learn.model_versions where model_schema = %s and "
                           "model_name = %s", [rec.schema, name])[0][0] == 0


@pytest.mark.parametrize("arguments, message", [
    ("k=0", "k must be a positive integer (items per user); got 0."),
    ("cold_start='random'", "cold_start must be 'popular' or 'none'"),
    ("user_column='customer'", "user column 'customer' is not a column of"),
])
def test_bad_ml_recommend_calls_fail_at_compile_time(rec, arguments, message):
    sql = ("select * from {{ dbt_learn.ml_recommend(ref('rec_implicit'), ref('rec_scoring_users'), "
           + arguments + ") }}")
    result = rec.dbt_with({"models/recommendation/rec_bad_call.sql": sql}, "run", "--select", "rec_bad_call")
    assert not result.success and message in result.output


def test_item_knn_with_seen_items_kept_and_no_cold_start(rec, dbt_conn):
    model = ("{{ config(materialized='ml_train', meta={'task': 'recommendation', 'user_column': 'user_id', "
             "'item_column': 'item_code', 'rating_column': 'rating', 'algorithm': 'item_knn', "
             "'params': {'n_neighbors': 10}}) }}\nselect * from {{ ref('rec_training') }}")
    scores = ("{{ config(materialized='table') }}\nselect * from {{ dbt_learn.ml_recommend(ref('rec_knn'), "
              "ref('rec_scoring_users'), k=3, exclude_seen=false, cold_start='none') }}")
    result = rec.dbt_with({"models/recommendation/rec_knn.sql": model,
                           "models/recommendation/rec_knn_scores.sql": scores},
                          "run", "--select", "rec_knn", "rec_knn_scores")
    assert result.success, result.output
    rows = query(dbt_conn, f'select user_id, item_code, rank from "{rec.schema}".rec_knn_scores')
    assert {user for user, _, _ in rows} == set(range(1000, 1240))  # no rows for the unknown users
    seen = set(query(dbt_conn, f'select user_id, item_code from "{rec.schema}".rec_interactions'))
    assert any((user, item) in seen for user, item, _ in rows)  # seen items are allowed back
    _, metrics, evaluation, features, algorithm, _ = version_row(dbt_conn, rec.schema, "rec_knn")
    assert algorithm == "sklearn.neighbors.NearestNeighbors"
    assert [f["role"] for f in features] == ["user", "item", "rating"]
    assert metrics["ndcg_at_k"] > evaluation["baseline_popularity"]["ndcg_at_k"]


def test_the_dbt_role_may_call_the_entry_points_but_not_the_temp_table_helper(dbt_conn):
    allowed = dict(query(dbt_conn, """
        select p.proname, has_function_privilege(current_user, p.oid, 'EXECUTE')
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'dbt_learn' and p.proname in ('train_recommender', 'recommend_batch', 'recommend',
                                                        'recommend_into_temp')"""))
    assert allowed == {"train_recommender": True, "recommend_batch": True, "recommend": True,
                       "recommend_into_temp": False}
