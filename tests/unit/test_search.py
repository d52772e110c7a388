"""meta.search: validation, equality with scikit-learn's own search classes, chunked runs, the in-database driver."""

import json

import numpy as np
import pytest
from scipy import stats
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, KFold, RandomizedSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from dbt_learn import _search_entry
from dbt_learn.errors import ConfigurationError, TrainingDataError
from dbt_learn.evaluation import split_rows
from dbt_learn.search import MAX_CANDIDATES, Search, check_search, fit_rows, run_search

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
X_DIAB, Y_DIAB = load_diabetes(return_X_y=True)


def pipeline(estimator):
    return Pipeline([("preprocess", StandardScaler()), ("model", estimator)])


def classifier_search(**options):
    space = {"C": [0.01, 1.0], "fit_intercept": [True, False]}
    return check_search("m", pipeline(LogisticRegression()), "classification", {"space": space, **options})


def test_grid_search_equals_grid_search_cv_on_the_same_folds():
    settings = classifier_search(scoring="f1_macro")
    record = run_search("m", pipeline(LogisticRegression()), X_IRIS, Y_IRIS, "classification", settings,
                        random_state=3).record()
    grid = {"model__C": [0.01, 1.0], "model__fit_intercept": [True, False]}
    offline = GridSearchCV(pipeline(LogisticRegression()), grid, scoring="f1_macro",
                           cv=StratifiedKFold(3, shuffle=True, random_state=3)).fit(X_IRIS, Y_IRIS)
    results = offline.cv_results_
    assert record["candidates"] == len(record["trials"]) == 4
    for index, trial in enumerate(record["trials"]):
        assert {f"model__{k}": v for k, v in trial["params"].items()} == results["params"][index]
        assert trial["mean_score"] == pytest.approx(results["mean_test_score"][index], abs=1e-12)
        assert trial["std_score"] == pytest.approx(results["std_test_score"][index], abs=1e-12)
        assert trial["fold_scores"] == pytest.approx([results[f"split{k}_test_score"][index] for k in range(3)])
        assert trial["rank"] == results["rank_test_score"][index]
    assert record["best_params"] == {k.removeprefix("model__"): v for k, v in offline.best_params_.items()}
    assert record["best_score"] == pytest.approx(offline.best_score_)
    assert record["method"] == "grid" and record["scoring"] == "f1_macro" and record["folds"] == 3
    json.dumps(record, allow_nan=False)


def test_a_lower_is_better_metric_is_recorded_as_itself_and_the_smallest_wins():
    settings = check_search("m", Ridge(), "regression", {"space": {"alpha": [0.01, 1.0, 100.0]}, "scoring": "rmse",
                                                          "folds": 4})
    record = run_search("m", Ridge(), X_DIAB, Y_DIAB, "regression", settings, random_state=0).record()
    offline = GridSearchCV(Ridge(), {"alpha": [0.01, 1.0, 100.0]}, scoring="neg_root_mean_squared_error",
                           cv=KFold(4, shuffle=True, random_state=0)).fit(X_DIAB, Y_DIAB)
    scores = [trial["mean_score"] for trial in record["trials"]]
    np.testing.assert_allclose(scores, -offline.cv_results_["mean_test_score"], rtol=1e-12)
    assert min(scores) > 0 and record["best_score"] == min(scores)
    assert record["best_params"] == {"alpha": offline.best_params_["alpha"]}  # bare estimator: names as they are


def test_chunked_runs_give_the_same_trials_as_one_run_and_report_progress():
    settings = classifier_search(progress_seconds=0)
    whole = run_search("m", pipeline(LogisticRegression()), X_IRIS, Y_IRIS, "classification", settings,
                       random_state=1).record()
    chunked = Search("m", pipeline(LogisticRegression()), X_IRIS, Y_IRIS, "classification", settings, random_state=1)
    texts = []
    while not chunked.finished:
        chunked.run(0)
        texts.append(chunked.progress()["text"])
    assert chunked.calls == 4
    assert texts[0].startswith("1/4 candidates, best accuracy=") and texts[-1].startswith("4/4 candidates")
    strip = lambda trials: [{k: v for k, v in t.items() if "seconds" not in k} for t in trials]  # noqa: E731
    assert strip(chunked.record()["trials"]) == strip(whole["trials"])


def test_random_search_samples_like_randomized_search_cv_and_is_reproducible():
    space = {"C": {"distribution": "loguniform", "low": 0.01, "high": 100},
             "max_iter": {"distribution": "randint", "low": 50, "high": 200}}
    settings = check_search("m", pipeline(LogisticRegression()), "classification",
                            {"method": "random", "space": space, "iterations": 5, "scoring": "log_loss"})
    record = run_search("m", pipeline(LogisticRegression()), X_IRIS, Y_IRIS, "classification", settings,
                        random_state=7).record()
    offline = RandomizedSearchCV(
        pipeline(LogisticRegression()),
        {"model__C": stats.loguniform(0.01, 100), "model__max_iter": stats.randint(50, 201)},
        n_iter=5, random_state=7, scoring="neg_log_loss", cv=StratifiedKFold(3, shuffle=True, random_state=7),
    ).fit(X_IRIS, Y_IRIS)
    assert [t["params"] for t in record["trials"]] == [
        {k.removeprefix("model__"): v for k, v in p.items()} for p in offline.cv_results_["params"]]
    np.testing.assert_allclose([t["mean_score"] for t in record["trials"]], -offline.cv_results_["mean_test_score"])
    again = run_search("m", pipeline(LogisticRegression()), X_IRIS, Y_IRIS, "classification", settings,
                       random_state=7).record()
    assert [t["params"] for t in again["trials"]] == [t["params"] for t in record["trials"]]
    other = run_search("m", pipeline(LogisticRegression()), X_IRIS, Y_IRIS, "classification", settings,
                       random_state=8).record()
    assert [t["params"] for t in other["trials"]] != [t["params"] for t in record["trials"]]
    assert all(50 <= t["params"]["max_iter"] <= 200 and isinstance(t["params"]["max_iter"], int)
               for t in record["trials"])


def test_random_search_over_lists_only_stops_at_the_grid_size():
    settings = check_search("m", Ridge(), "regression",
                            {"method": "random", "space": {"alpha": [0.1, 1.0, 10.0]}, "iterations": 10})
    assert settings["candidates"] == 3


def random(space):
    return {"method": "random", "space": space}


@pytest.mark.parametrize("search, message", [
    ({"method": "bayes", "space": {"C": [1.0]}}, "method 'bayes' is unknown; use 'grid' or 'random'"),
    ({"space": {"Cc": [1.0]}}, "unknown hyperparameter 'Cc' for LogisticRegression. Did you mean 'C'?"),
    ({"space": {"C": {"distribution": "uniform", "low": 0.1, "high": 1}}}, "a grid search takes a list of values"),
    (random({"C": {"distribution": "normal", "low": 0, "high": 1}}), "must be a list of values or"),
    (random({"C": {"distribution": "uniform", "low": 2, "high": 1}}), "low < high"),
    (random({"C": {"distribution": "loguniform", "low": 0, "high": 1}}), "loguniform needs low > 0"),
    (random({"max_iter": {"distribution": "randint", "low": 1.5, "high": 9}}), "whole numbers"),
    ({"space": {"C": [1.0]}, "iterations": 5}, "iterations applies to method 'random' only"),
    ({"method": "random", "space": {"C": [1.0]}, "iterations": 0}, "iterations must be a whole number from 1"),
    ({"space": {"C": [1.0]}, "folds": 1}, "folds must be a whole number from 2 to 20"),
    ({"space": {"C": [1.0]}, "scoring": "r2"}, "scoring 'r2' is not a classification metric"),
    ({"space": {"C": [-1.0]}}, "value -1.0 of 'C' is invalid"),
    ({"space": {"n_jobs": [2]}}, "'n_jobs' cannot be searched"),
    ({"space": {}}, "needs a space"),
    ({"space": {"C": []}}, "needs a non-empty list of values"),
    ({"space": {"C": [1.0]}, "fold": 3}, "option 'fold' is unknown. Did you mean 'folds'?"),
    ({"space": {"C": list(np.linspace(0.1, 10, 50)), "tol": list(np.linspace(1e-5, 1e-3, 50))}},
     "combinations, more than"),
])
def test_bad_options_are_refused_with_a_clear_message(search, message):
    for estimator in (LogisticRegression(), pipeline(LogisticRegression())):
        with pytest.raises(ConfigurationError) as error:
            check_search("churn", estimator, "classification", search)
        assert str(error.value).startswith("model 'churn': meta.search ")
        assert message in str(error.value)


def test_tasks_without_a_metric_are_refused():
    with pytest.raises(ConfigurationError, match="this model's task is anomaly_detection"):
        check_search("m", Ridge(), "anomaly_detection", {"space": {"alpha": [1.0]}})
    assert MAX_CANDIDATES >= 1000


def test_the_search_sees_only_the_fit_rows_of_the_holdout_split():
    spec = {"holdout_size": 0.25, "random_state": 4, "split": "auto"}
    X_fit, y_fit, _ = fit_rows("m", X_IRIS, Y_IRIS, "classification", spec)
    rows, holdout = split_rows("m", Y_IRIS, "classification", len(Y_IRIS), holdout_size=0.25, random_state=4)
    np.testing.assert_array_equal(X_fit, X_IRIS[rows])
    assert len(X_fit) + len(holdout) == len(X_IRIS)


def test_time_split_folds_train_on_the_past_only():
    order = np.random.default_rng(0).permutation(len(Y_DIAB)).astype(float)
    settings = check_search("m", Ridge(), "regression", {"space": {"alpha": [1.0]}, "folds": 4})
    search = Search("m", Ridge(), X_DIAB, Y_DIAB, "regression", settings, random_state=0, split="time", order=order)
    assert "TimeSeriesSplit" in search.cv
    for train, test in search.splits:
        assert order[train].max() < order[test].min()


def test_a_failing_candidate_ranks_last_and_all_failing_is_an_error():
    estimator = LogisticRegression(solver="lbfgs")
    settings = check_search("m", estimator, "classification", {"space": {"penalty": ["l1", "l2"]}})
    record = run_search("m", estimator, X_IRIS, Y_IRIS, "classification", settings, random_state=0).record()
    failed, ok = record["trials"]
    assert failed["mean_score"] is None and failed["rank"] == 2 and ok["rank"] == 1
    assert record["failed_candidates"] == 1 and record["best_params"] == {"penalty": "l2"}
    assert any("l1" in message for message in record["failures"])
    settings = check_search("m", estimator, "classification", {"space": {"penalty": ["l1"]}})
    with pytest.raises(TrainingDataError, match="every candidate failed"):
        run_search("m", estimator, X_IRIS, Y_IRIS, "classification", settings, random_state=0)


def test_clusterers_are_searched_by_silhouette():
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    settings = check_search("m", KMeans(n_init=1, random_state=0), "clustering", {"space": {"n_clusters": [2, 3]}})
    record = run_search("m", KMeans(n_init=1, random_state=0), X_IRIS, None, "clustering", settings,
                        random_state=0).record()
    train, test = next(KFold(3, shuffle=True, random_state=0).split(X_IRIS))
    fitted = KMeans(n_clusters=2, n_init=1, random_state=0).fit(X_IRIS[train])
    expected = silhouette_score(X_IRIS[test], fitted.predict(X_IRIS[test]))
    assert record["trials"][0]["fold_scores"][0] == pytest.approx(expected)


def _start(estimator, completed, search, **spec):
    spec = {"search": search, "random_state": 0, "holdout_size": 0.2, **spec}

    def complete(best_params, record):
        completed.append((best_params, record, estimator.get_params()["model__C"]))
        return json.dumps({"version": 1, "metrics": {}})

    return json.loads(_search_entry.start(None, "m", spec, estimator, X_IRIS, Y_IRIS, "classification", complete))


def test_in_database_driver_runs_chunk_by_chunk_then_completes_with_the_best_params():
    estimator, completed = pipeline(LogisticRegression()), []
    answer = _start(estimator, completed, {"space": {"C": [0.01, 0.1, 1.0]}, "progress_seconds": 0})
    assert answer["pending"] and answer["progress"]["done"] == 1 and answer["progress"]["total"] == 3
    token = answer["token"]
    assert json.loads(_search_entry.train_continue(None, token))["progress"]["done"] == 2
    final = json.loads(_search_entry.train_continue(None, token))
    assert final["version"] == 1 and "search done: 3 candidates" in final["search"]["text"]
    best_params, record, deployed_c = completed[0]
    assert best_params == {"model__C": record["best_params"]["C"]} and deployed_c == record["best_params"]["C"]
    assert record["calls"] == 3 and len(record["trials"]) == 3
    assert record["fit_rows"] == 120  # the holdout (30 rows) stays out
    assert _search_entry.pending_searches() == []
    assert "rerun the model" in json.loads(_search_entry.train_continue(None, token))["error"]


def test_a_search_that_fits_in_one_call_completes_at_once():
    completed = []
    final = _start(pipeline(LogisticRegression()), completed, {"space": {"C": [0.1, 1.0]}})
    assert "pending" not in final and final["search"]["candidates"] == 2 and len(completed) == 1


def test_a_failure_or_a_new_search_drops_the_state():
    estimator = pipeline(LogisticRegression())

    def failing(best_params, record):
        raise TrainingDataError("model 'm': boom")

    spec = {"search": {"space": {"C": [0.1, 1.0]}, "progress_seconds": 0}, "random_state": 0}
    token = json.loads(_search_entry.start(None, "m", spec, estimator, X_IRIS, Y_IRIS, "classification",
                                           failing))["token"]
    assert json.loads(_search_entry.train_continue(None, token)) == {"error": "model 'm': boom"}
    assert _search_entry.pending_searches() == []
    first = _start(estimator, [], {"space": {"C": [0.1, 1.0]}, "progress_seconds": 0})["token"]
    second = _start(estimator, [], {"space": {"C": [0.1, 1.0]}, "progress_seconds": 0})["token"]
    assert _search_entry.pending_searches() == [second] and first != second


def test_a_missing_random_state_is_drawn_once_and_written_into_the_spec():
    estimator, spec = pipeline(LogisticRegression()), {"search": {"space": {"C": [1.0]}}, "random_state": None}
    seen = []
    _search_entry.start(None, "m", spec, estimator, X_IRIS, Y_IRIS, "classification",
                        lambda best, record: seen.append(record) or "{}")
    assert isinstance(spec["random_state"], int) and seen[0]["random_state"] == spec["random_state"]
