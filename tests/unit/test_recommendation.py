"""The recommendation core (python_models/dbt_learn/recommendation.py) against brute-force and scikit-learn references:
the matrix, the split, top-k with seen items excluded, the ranking metrics, and the factorisers."""

import numpy as np
import pytest
from scipy import sparse
from sklearn.decomposition import NMF, TruncatedSVD
from sklearn.metrics import ndcg_score

from dbt_learn import _recommend_entry as entry
from dbt_learn.errors import ConfigurationError, ScoringError, TrainingDataError
from dbt_learn.recommendation import (build_factoriser, build_interactions, entries, evaluate_and_fit, fingerprint,
                                      fit_recommender, holdout_entries, popular_top, ranking_metrics, top_k)

COLUMNS = dict(user_column="u", item_column="i", rating_column="r")


def synthetic(seed=0, n_users=60, n_items=30, groups=3):
    """Users who prefer the items of their group: a factorisation should beat popularity."""
    rng = np.random.default_rng(seed)
    user_group, item_group = rng.integers(0, groups, n_users), np.arange(n_items) % groups
    users, items, ratings = [], [], []
    for u in range(n_users):
        weight = np.where(item_group == user_group[u], 8.0, 1.0)
        for i in rng.choice(n_items, size=int(rng.integers(4, 12)), replace=False, p=weight / weight.sum()):
            users.append(f"user {u}"), items.append(f"item-{i}"), ratings.append(float(rng.integers(1, 6)))
    return np.array(users, dtype=object), np.array(items, dtype=object), np.array(ratings)


def brute_top(scores, k, seen):
    """Sort every row fully: score descending, then column ascending; seen columns never."""
    result = []
    for row, row_seen in zip(scores, seen):
        candidates = sorted((-value, column) for column, value in enumerate(row) if column not in row_seen)
        result.append([column for _, column in candidates[:k]])
    return result


def test_duplicates_are_summed_for_implicit_and_averaged_for_ratings():
    users = np.array(["a", "a", "b", "a"], dtype=object)
    items = np.array(["x", "x", "y", "z"], dtype=object)
    implicit = build_interactions("m", users, items, None, **COLUMNS)
    assert list(implicit.users) == ["a", "b"] and list(implicit.items) == ["x", "y", "z"]
    assert implicit.matrix.toarray().tolist() == [[2, 0, 1], [0, 1, 0]] and implicit.duplicates == 1
    rated = build_interactions("m", users, items, np.array([4.0, 2.0, 0.0, 5.0]), **COLUMNS)
    assert rated.matrix.toarray().tolist() == [[3, 0, 5], [0, 0, 0]]
    assert rated.matrix.nnz == 3  # a rating of 0 is still an interaction: the item counts as seen


def test_fingerprint_ignores_row_order_but_not_values():
    users, items, ratings = synthetic()
    order = np.random.default_rng(1).permutation(len(users))
    one = fingerprint(build_interactions("m", users, items, ratings, **COLUMNS))
    assert one == fingerprint(build_interactions("m", users[order], items[order], ratings[order], **COLUMNS))
    ratings[0] += 1
    assert one != fingerprint(build_interactions("m", users, items, ratings, **COLUMNS))


@pytest.mark.parametrize("column, values", [("u", ["a", None]), ("i", [None, "x"])])
def test_null_user_or_item_names_the_column(column, values):
    users = np.array(values if column == "u" else ["a", "b"], dtype=object)
    items = np.array(values if column == "i" else ["x", "y"], dtype=object)
    with pytest.raises(TrainingDataError, match=f"model 'm': column '{column}' is NULL in 1 of 2 rows"):
        build_interactions("m", users, items, None, **COLUMNS)


def test_null_rating_names_the_rating_column():
    with pytest.raises(TrainingDataError, match="rating column 'r' is NULL"):
        build_interactions("m", np.array(["a"], dtype=object), np.array(["x"], dtype=object), np.array([np.nan]),
                           **COLUMNS)


def test_holdout_hides_a_share_of_each_user_and_keeps_one_to_fit():
    matrix = build_interactions("m", *synthetic()[:2], None, **COLUMNS).matrix
    hidden = holdout_entries(matrix, 0.25, 0)
    assert np.array_equal(hidden, holdout_entries(matrix, 0.25, 0))
    per_user = np.diff(matrix.indptr)
    hidden_per_user = np.diff(entries(matrix, hidden).indptr)
    assert np.array_equal(hidden_per_user, np.minimum(per_user - 1, np.ceil(0.25 * per_user)))
    assert (entries(matrix, ~hidden) + entries(matrix, hidden) != matrix).nnz == 0


def test_top_k_matches_a_full_sort_with_ties_and_seen_items():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 4, size=(40, 12)).astype(float)  # many ties
    seen = sparse.random(40, 12, density=0.3, random_state=4, format="csr")
    seen.sort_indices()
    seen_sets = [set(seen[row].indices) for row in range(40)]
    for k in (1, 3, 12):
        picked, values = top_k(scores, k, seen)
        expected = brute_top(scores, k, seen_sets)
        for row in range(40):
            assert [c for c in picked[row] if c >= 0] == expected[row]
            assert all(c not in seen_sets[row] for c in picked[row] if c >= 0)
            assert np.all(values[row][picked[row] >= 0] == scores[row, expected[row]])


def test_popular_top_is_top_k_of_the_popularity_of_every_row():
    rng = np.random.default_rng(7)
    popularity = rng.integers(0, 5, size=20).astype(float)  # ties
    seen = sparse.random(30, 20, density=0.4, random_state=8, format="csr")
    seen.sort_indices()
    for k in (1, 4, 20):
        expected = top_k(np.tile(popularity, (30, 1)), k, seen)
        np.testing.assert_array_equal(popular_top(popularity, k, seen)[0], expected[0])
        np.testing.assert_array_equal(popular_top(popularity, k, seen)[1], expected[1])
    np.testing.assert_array_equal(popular_top(popularity, 3, None, 2)[0], top_k(np.tile(popularity, (2, 1)), 3)[0])


def test_ranking_metrics_match_sklearn_ndcg_and_hand_counts():
    rng = np.random.default_rng(5)
    n_users, n_items, k = 25, 15, 5
    scores = rng.normal(size=(n_users, n_items))
    relevant = sparse.random(n_users, n_items, density=0.2, random_state=6, format="csr")
    relevant.data[:] = 1
    relevant.sort_indices()
    picked, _ = top_k(scores, k)
    metrics = ranking_metrics(picked, relevant, k)
    dense = relevant.toarray()
    rows = dense.sum(axis=1) > 0
    hits = np.array([dense[u, picked[u]].sum() for u in range(n_users)])[rows]
    assert metrics["precision_at_k"] == pytest.approx(np.mean(hits / k))
    assert metrics["recall_at_k"] == pytest.approx(np.mean(hits / dense.sum(axis=1)[rows]))
    assert metrics["hit_rate_at_k"] == pytest.approx(np.mean(hits > 0))
    assert metrics["ndcg_at_k"] == pytest.approx(ndcg_score(dense[rows], scores[rows], k=k))


def test_truncated_svd_scores_are_the_reconstructed_matrix():
    users, items, _ = synthetic()
    interactions = build_interactions("m", users, items, None, **COLUMNS)
    recommender, _ = fit_recommender("m", "truncated_svd", {"n_components": 4}, 0, interactions,
                                     interactions.matrix, 10)
    svd = TruncatedSVD(n_components=4, random_state=0)
    expected = svd.fit_transform(interactions.matrix) @ svd.components_
    np.testing.assert_allclose(recommender.scores(np.arange(len(interactions.users))), expected, atol=1e-9)
    seen = [set(interactions.matrix[u].indices) for u in range(len(interactions.users))]
    position, item, rank, _ = recommender.recommend("m", interactions.users, 3)
    for u in range(len(interactions.users)):
        assert list(item[position == u]) == brute_top(expected[[u]], 3, [seen[u]])[0]
        assert list(rank[position == u]) == [1, 2, 3]


def test_nmf_and_item_knn_reference_scores():
    users, items, ratings = synthetic(seed=2)
    interactions = build_interactions("m", users, items, ratings, **COLUMNS)
    matrix = interactions.matrix
    recommender, _ = fit_recommender("m", "nmf", {"n_components": 3, "max_iter": 500}, 0, interactions, matrix, 5)
    nmf = NMF(n_components=3, max_iter=500, random_state=0)
    np.testing.assert_allclose(recommender.scores([0, 1]), (nmf.fit_transform(matrix) @ nmf.components_)[:2],
                               atol=1e-9)
    knn, _ = fit_recommender("m", "item_knn", {"n_neighbors": 4}, 0, interactions, matrix, 5)
    dense = matrix.toarray()
    norms = np.linalg.norm(dense, axis=0)
    cosine = (dense.T @ dense) / np.outer(norms, norms)
    np.fill_diagonal(cosine, -np.inf)
    similarity = np.zeros_like(cosine)
    for item in range(cosine.shape[0]):  # each item's 4 most similar other items
        best = np.argsort(-cosine[item], kind="stable")[:4]
        similarity[item, best] = cosine[item, best]
    np.testing.assert_allclose(knn.scores(np.arange(dense.shape[0])), dense @ similarity, atol=1e-9)


def test_evaluation_beats_popularity_and_refits_on_everything():
    users, items, _ = synthetic(seed=4, n_users=150)
    interactions = build_interactions("m", users, items, None, **COLUMNS)
    final, metrics, evaluation, _ = evaluate_and_fit("m", "truncated_svd", {"n_components": 3}, 0, interactions,
                                                     holdout_size=0.2, top_k_=5)
    assert set(metrics) == {"precision_at_k", "recall_at_k", "ndcg_at_k", "hit_rate_at_k", "coverage"}
    assert metrics["ndcg_at_k"] > evaluation["baseline_popularity"]["ndcg_at_k"]
    assert evaluation["holdout_rows"] > 0 and evaluation["refit"] is True
    assert final.seen.nnz == interactions.matrix.nnz  # the refit saw every interaction
    _, none, _, _ = evaluate_and_fit("m", None, {}, 0, interactions, holdout_size=0, top_k_=5)
    assert none == {}


def test_unknown_users_get_popular_items_or_nothing():
    users, items, _ = synthetic()
    interactions = build_interactions("m", users, items, None, **COLUMNS)
    recommender, _ = fit_recommender("m", None, {}, 0, interactions, interactions.matrix, 4)
    position, item, rank, score = recommender.recommend("m", np.array(["nobody", "user 0"], dtype=object))
    popular = np.argsort(-np.bincount(interactions.matrix.indices), kind="stable")[:4]
    assert list(item[position == 0]) == list(popular) and list(rank[position == 0]) == [1, 2, 3, 4]
    assert len(item[position == 1]) == 4  # k defaults to the model's top_k
    position, _, _, _ = recommender.recommend("m", np.array(["nobody"], dtype=object), 3, cold_start="none")
    assert len(position) == 0


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_k_must_be_a_positive_integer(k):
    users, items, _ = synthetic()
    interactions = build_interactions("m", users, items, None, **COLUMNS)
    recommender, _ = fit_recommender("m", None, {}, 0, interactions, interactions.matrix, 4)
    with pytest.raises(ScoringError, match="k must be a positive integer"):
        recommender.recommend("m", np.array(["user 0"], dtype=object), k)


@pytest.mark.parametrize("algorithm, params, message", [
    ("als", {}, "'als' is not a recommender; use one of truncated_svd, nmf, item_knn"),
    ("truncated_svd", {"n_compnents": 3}, "n_compnents is not a parameter of truncated_svd"),
    ("truncated_svd", {"n_components": 30}, r"n_components must be an integer from 1 to 9"),
    ("item_knn", {"metric": "l1"}, "metric is not a parameter of item_knn"),
])
def test_bad_algorithm_or_params_are_configuration_errors(algorithm, params, message):
    with pytest.raises(ConfigurationError, match=message):
        build_factoriser("m", algorithm, params, 0, (10, 20))


def test_options_are_checked_before_any_data():
    with pytest.raises(ConfigurationError, match="needs meta.user_column and meta.item_column.*user_column"):
        entry.check_options("m", {"item_column": "i"})
    good = {"user_column": "u", "item_column": "i"}
    with pytest.raises(ConfigurationError, match="meta.top_k must be a positive integer"):
        entry.check_options("m", {**good, "top_k": 0})
    with pytest.raises(ConfigurationError, match="meta.split does not apply to a recommender"):
        entry.check_options("m", {**good, "split": "time"})
    entry.check_options("m", {**good, "deploy_strategy": "best_score", "deploy_metric": "ndcg_at_k"})


def test_copy_payload_has_the_text_array_of_the_items():
    payload = entry.copy_recommendations(np.array(["a", "bé"], dtype=object), np.array([1, 1]), np.array([1, 0]),
                                         np.array([1, 2]), np.array([0.5, 0.25]))
    assert b"\x00\x00\x00\x03b\xc3\xa9\x00\x00\x00\x01a" in payload  # length-prefixed UTF-8, in output order
    assert payload.startswith(b"PGCOPY\n\xff\r\n\x00") and payload.endswith(b"\xff\xff")
