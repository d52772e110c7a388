from dbt_learn.lifecycle import config_fingerprint, training_reason

NEWEST = {"version": 3, "data_fingerprint": "d", "config_fingerprint": "c"}


def test_the_first_version_says_so_whatever_the_materialization_decided():
    assert training_reason({}, [], "d", "c") == "first version"
    assert training_reason({"training_reason": "full refresh"}, [], "d", "c") == "first version"


def test_the_materializations_reason_wins_over_the_fingerprints():
    reason = "monitor drift: psi=0.41 > max_value 0.25 at bucket_start 2026-01-05T00:00:00Z"
    assert training_reason({"training_reason": reason}, [NEWEST], "d", "c") == reason


def test_on_change_names_what_changed_since_the_newest_version():
    deployed = {"version": 2, "data_fingerprint": "d", "config_fingerprint": "c"}
    assert training_reason({}, [deployed, NEWEST], "d2", "c") == "training data changed since v3"
    assert training_reason({}, [NEWEST], "d", "c2") == "configuration changed since v3"
    assert training_reason({}, [NEWEST], "d2", "c2") == "training data and configuration changed since v3"


def test_retrain_bookkeeping_does_not_change_the_configuration_fingerprint():
    spec = {"algorithm": "ridge", "params": {"alpha": 1.0}}
    assert config_fingerprint(spec) == config_fingerprint({
        **spec, "training_reason": "full refresh", "as_of": "2026-01-01 00:00:00+00", "force": True,
        "config": {"retrain_on": [{"monitor": "m", "metric": "psi", "max_value": 0.25}]}})
