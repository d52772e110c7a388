import pytest

from dbt_learn import ConfigurationError
from dbt_learn.lifecycle import check_lifecycle_options, config_fingerprint, deployment_decision, unchanged_since


def test_on_change_skips_only_when_data_and_config_are_both_unchanged():
    latest = {"version": 3, "data_fingerprint": "d", "config_fingerprint": "c"}
    assert "unchanged since v3" in unchanged_since([latest], "d", "c")
    assert unchanged_since([latest], "d2", "c") is None
    assert unchanged_since([latest], "d", "c2") is None
    assert unchanged_since([], "d", "c") is None


def test_on_change_also_matches_the_deployed_version_so_a_rollback_stays():
    deployed = {"version": 2, "data_fingerprint": "d", "config_fingerprint": "c"}
    latest = {"version": 3, "data_fingerprint": "d", "config_fingerprint": "c3"}
    assert "unchanged since v2" in unchanged_since([deployed, latest], "d", "c")


def test_config_fingerprint_follows_fit_options_and_code_not_bookkeeping():
    spec = {"algorithm": "ridge", "params": {"alpha": 1.0}, "invocation_id": "a"}
    assert config_fingerprint(spec) == config_fingerprint({**spec, "invocation_id": "b"})
    assert config_fingerprint(spec) != config_fingerprint({**spec, "params": {"alpha": 2.0}})
    assert config_fingerprint(spec, "code 1") != config_fingerprint(spec, "code 2")


def test_most_recent_deploys_every_new_version_and_nothing_on_a_skip():
    assert deployment_decision({}, 4, {}, (3, {}))[0] == 4
    assert deployment_decision({}, None, None, (3, {}))[0] is None


def test_best_score_deploys_only_a_better_version_in_the_metrics_direction():
    spec = {"deploy_strategy": "best_score", "deploy_metric": "rmse"}
    assert deployment_decision(spec, 4, {"rmse": 1.0}, (3, {"rmse": 2.0}))[0] == 4
    version, _, reason = deployment_decision(spec, 4, {"rmse": 3.0}, (3, {"rmse": 2.0}))
    assert version is None and "does not beat 2 of deployed v3" in reason
    spec = {"deploy_strategy": "best_score", "deploy_metric": "roc_auc"}
    assert deployment_decision(spec, 4, {"roc_auc": 0.9}, (3, {"roc_auc": 0.8}))[0] == 4
    assert deployment_decision(spec, 4, {"roc_auc": 0.9}, None)[0] == 4


def test_pinned_always_answers_the_pinned_version():
    spec = {"deploy_strategy": "pinned", "deploy_version": 2}
    assert deployment_decision(spec, 5, {}, (4, {}))[0] == 2
    assert deployment_decision(spec, None, None, (4, {}))[0] == 2


@pytest.mark.parametrize("spec, message", [
    ({"retrain_policy": "sometimes"}, "retrain_policy 'sometimes' is unknown"),
    ({"deploy_strategy": "newest"}, "deploy_strategy 'newest' is unknown"),
    ({"deploy_strategy": "best_score"}, "needs meta.deploy_metric"),
    ({"deploy_strategy": "best_score", "deploy_metric": "rmse"}, "'rmse' is not a classification metric"),
    ({"deploy_strategy": "pinned"}, "needs meta.deploy_version"),
])
def test_lifecycle_options_are_checked_with_what_to_do(spec, message):
    with pytest.raises(ConfigurationError, match=message):
        check_lifecycle_options("m", spec, "classification")
