"""meta.partial_fit's pure parts: the options, the chunk size, and the hash thresholds that pick the holdout and the
preprocessing sample (checked against a uniform draw of 64-bit hashes, as the seeded row hash behaves)."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, SGDRegressor

from dbt_learn import _partial_fit_options as options
from dbt_learn._training_read import _threshold
from dbt_learn.errors import ConfigurationError


def test_true_means_one_epoch_seeded_by_random_state():
    assert options.check_options("m", {"partial_fit": True, "random_state": 7}) == {"epochs": 1, "seed": 7}
    assert options.check_options("m", {"partial_fit": {"epochs": 3}}) == {"epochs": 3, "seed": 0}
    assert options.check_options("m", {"partial_fit": {"epochs": 2, "seed": -4}}) == {"epochs": 2, "seed": -4}
    assert options.check_options("m", {}) is None and options.check_options("m", {"partial_fit": False}) is None


@pytest.mark.parametrize("value", [{"epochs": 0}, {"epochs": 1.5}, {"epochs": True}, {"seed": "x"}, {"rounds": 1},
                                   "yes", 3])
def test_malformed_options_are_refused_with_the_usage(value):
    with pytest.raises(ConfigurationError, match=r"model 'm': meta.partial_fit"):
        options.check_options("m", {"partial_fit": value})


@pytest.mark.parametrize("extra, key", [({"sample": {"rows": 5}}, "meta.sample"), ({"search": {"x": [1]}}, "search"),
                                        ({"cv_folds": 5}, "cv_folds"), ({"split": "time"}, "split 'time'")])
def test_what_cannot_be_combined_is_refused(extra, key):
    with pytest.raises(ConfigurationError, match=key):
        options.check_options("m", {"partial_fit": True, **extra})


def test_chunk_limit_and_rows():
    assert options.chunk_limit("m", {}) == (64, 64 << 20)
    assert options.chunk_limit("m", {"training_chunk_mb": 0.5}) == (0.5, 1 << 19)
    for bad in (0, -1, "64", True):
        with pytest.raises(ConfigurationError, match="dbt_learn_training_chunk_mb"):
            options.chunk_limit("m", {"training_chunk_mb": bad})
    assert options.chunk_rows(64 << 20, 88, 0) == (64 << 20) // 96
    assert options.chunk_rows(100, 88, 2) == 1  # never an empty chunk


def test_threshold_is_the_meta_sample_threshold():
    for fraction in (0.0, 1e-6, 0.25, 0.5, 0.8, 0.999999, 1.0):
        assert options.threshold(fraction) == _threshold(fraction)


HASHES = np.random.default_rng(3).integers(-2**63, 2**63 - 1, size=1_000_000, dtype=np.int64, endpoint=True)


def test_the_holdout_is_the_top_of_the_hash_range_and_bounded():
    start, keep = options.holdout_thresholds(1_000_000, 0.2, bound=200_000)
    assert start == keep and abs((HASHES >= start).mean() - 0.2) < 0.002
    start, keep = options.holdout_thresholds(1_000_000, 0.2, bound=50_000)
    held, kept = (HASHES >= start).sum(), (HASHES >= keep).sum()
    assert abs(held - 200_000) < 2_000 and abs(kept - 50_000) < 1_000 and keep > start
    assert options.holdout_thresholds(1_000_000, 0) == (None, None)


def test_the_preprocessing_sample_is_fit_rows_only_and_a_little_over_its_size():
    start, _ = options.holdout_thresholds(1_000_000, 0.2)
    below = options.sample_threshold(1_000_000, 0.2, rows=100_000)
    sampled = HASHES < below
    assert not (sampled & (HASHES >= start)).any()  # never a holdout row
    assert 100_000 < sampled.sum() < 100_000 + 6 * 317 + 2_000
    # A small table: every fit row, still no holdout row.
    small = options.sample_threshold(1_000, 0.2, rows=100_000)
    assert small == start and options.sample_threshold(1_000, 0, rows=100_000) is None


def test_an_estimator_without_partial_fit_is_refused_naming_some_with_it():
    options.check_estimator("m", SGDRegressor())
    with pytest.raises(ConfigurationError, match="LinearRegression has none; choose one such as sgd_regressor"):
        options.check_estimator("m", LinearRegression())
