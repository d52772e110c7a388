"""The drift baseline's moments, computed block by block, equal numpy's over the whole matrix (NaN ignored)."""

import numpy as np
import pytest

from dbt_learn import training
from dbt_learn.training import numeric_training_stats


@pytest.mark.parametrize("n_rows", [1, 7, training._BLOCK_ROWS, 3 * training._BLOCK_ROWS + 11])
def test_moments_equal_numpys_with_nulls_an_all_null_column_and_a_large_offset(n_rows):
    rng = np.random.default_rng(n_rows)
    X = np.column_stack([rng.normal(size=n_rows), 1e6 + rng.uniform(size=n_rows), rng.integers(0, 3, n_rows) * 1.0,
                         np.full(n_rows, np.nan), rng.normal(size=n_rows)])
    X[rng.random(n_rows) < 0.2, 0] = np.nan  # some NULLs
    X[: n_rows // 2 + 1, 4] = np.nan  # a column NULL in its first block(s)
    stats = numeric_training_stats([f"c{i}" for i in range(X.shape[1])], X)
    for index, entry in enumerate(stats.values()):
        column = X[:, index]
        present = column[~np.isnan(column)]
        assert entry["nulls"] == int(np.isnan(column).sum()) and entry["count"] == n_rows
        if not present.size:
            assert entry["mean"] is entry["std"] is entry["min"] is entry["max"] is None
            continue
        assert entry["mean"] == pytest.approx(float(np.mean(present)), rel=1e-12, abs=1e-12)
        assert entry["std"] == pytest.approx(float(np.std(present)), rel=1e-9, abs=1e-12)
        assert (entry["min"], entry["max"]) == (float(np.min(present)), float(np.max(present)))


def test_an_empty_matrix_has_no_moments():
    stats = numeric_training_stats(["a"], np.empty((0, 1)))
    assert stats["a"]["count"] == 0 and stats["a"]["mean"] is None
