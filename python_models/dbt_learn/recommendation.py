"""Recommendation (meta.task 'recommendation'): top-k items per user from user-item interactions.

The interactions become a sparse user x item matrix (explicit ratings, or 1 per interaction for implicit feedback),
factorised by TruncatedSVD or NMF, or turned into an item-item cosine neighbourhood (item_knn). A user's score for an
item is the reconstructed matrix cell; the items the user already interacted with are excluded. Pure: no database.
"""

import hashlib
import time
import warnings
from dataclasses import dataclass

import numpy as np

from .errors import ConfigurationError, ScoringError, TrainingDataError

ALGORITHMS = ("truncated_svd", "nmf", "item_knn")
DEFAULT_ALGORITHM = "truncated_svd"
DEFAULT_COMPONENTS = 10  # sklearn's own default (2 for TruncatedSVD) is too few latent factors to rank items
DEFAULT_NEIGHBORS = 50
COLD_START = ("popular", "none")
_BLOCK_CELLS = 2_000_000  # user x item scores computed per block (16 MB of float64)


@dataclass
class Interactions:
    """The deduplicated interactions: ``matrix`` is CSR (users x items, sorted indices) whose stored entries are
    exactly the (user, item) pairs seen - an explicit rating of 0 stays stored - and ``users``/``items`` the sorted
    distinct values its rows and columns stand for."""
    users: np.ndarray
    items: np.ndarray
    matrix: object
    duplicates: int


def build_interactions(model, users, items, ratings, *, user_column, item_column, rating_column):
    """The user x item matrix of decoded columns. Duplicate (user, item) rows are summed for implicit feedback (each
    interaction counts 1) and averaged for explicit ratings (a re-rating replaces, not adds to, a judgement)."""
    import pandas as pd
    from scipy import sparse

    n_rows = len(users)
    for values, column in ((users, user_column), (items, item_column)):
        nulls = int(pd.isna(np.asarray(values, dtype=object)).sum())  # the decoder's NULL: NaN (or None)
        if nulls:
            raise TrainingDataError(
                f"model '{model}': column '{column}' is NULL in {nulls} of {n_rows} rows; every interaction needs a "
                f"user and an item - filter them out in the training view (where {column} is not null).")
    if ratings is None:
        values = np.ones(n_rows)
    else:
        values = np.asarray(ratings, dtype=np.float64)
        bad = int((~np.isfinite(values)).sum())
        if bad:
            raise TrainingDataError(
                f"model '{model}': rating column '{rating_column}' is NULL (or NaN/infinite) in {bad} of {n_rows} "
                f"rows; filter them out or coalesce them in the training view, or drop meta.rating_column for "
                f"implicit feedback.")
    user_codes, user_values = pd.factorize(np.asarray(users, dtype=object), sort=True)
    item_codes, item_values = pd.factorize(np.asarray(items, dtype=object), sort=True)
    n_items = len(item_values)
    keys = user_codes.astype(np.int64) * n_items + item_codes
    order = np.argsort(keys, kind="stable")
    unique_keys, starts, counts = np.unique(keys[order], return_index=True, return_counts=True)
    data = np.add.reduceat(values[order], starts) if n_rows else np.zeros(0)
    if ratings is not None:
        data = data / counts
    rows = unique_keys // n_items if n_items else unique_keys
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(user_values)))])
    matrix = sparse.csr_matrix((data, unique_keys - rows * n_items, indptr), shape=(len(user_values), n_items))
    return Interactions(np.asarray(user_values, dtype=object), np.asarray(item_values, dtype=object), matrix,
                        n_rows - len(unique_keys))


def fingerprint(interactions):
    """sha256 of the matrix and the values its rows and columns stand for: independent of the rows' order."""
    digest = hashlib.sha256()
    for values in (interactions.users, interactions.items):
        digest.update("\x00".join(values).encode())
        digest.update(b"\xff")
    matrix = interactions.matrix
    for array in (matrix.indptr.astype(np.int64), matrix.indices.astype(np.int64), matrix.data):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def entries(matrix, keep):
    """The CSR matrix with only the stored entries where ``keep`` is true (same shape)."""
    from scipy import sparse

    owner = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(owner[keep], minlength=matrix.shape[0]))])
    return sparse.csr_matrix((matrix.data[keep], matrix.indices[keep], indptr), shape=matrix.shape)


def holdout_entries(matrix, holdout_size, random_state):
    """Which stored entries to hide: per user with at least 2 interactions, ceil(holdout_size x n) chosen at random
    but always leaving one to fit on; users with a single interaction keep it."""
    from sklearn.utils import check_random_state

    per_user = np.diff(matrix.indptr)
    hide = np.minimum(per_user - 1, np.ceil(holdout_size * per_user).astype(np.int64))
    hide[per_user < 2] = 0
    owner = np.repeat(np.arange(matrix.shape[0]), per_user)
    order = np.lexsort((check_random_state(random_state).random_sample(matrix.nnz), owner))
    rank = np.empty(matrix.nnz, dtype=np.int64)
    rank[order] = np.arange(matrix.nnz) - matrix.indptr[owner[order]]
    return rank < hide[owner]


def build_factoriser(model, algorithm, params, random_state, shape):
    """The estimator an algorithm name stands for, with meta.params checked against its parameters."""
    algorithm = algorithm or DEFAULT_ALGORITHM
    if algorithm not in ALGORITHMS:
        raise ConfigurationError(f"model '{model}': meta.algorithm '{algorithm}' is not a recommender; use one of "
                                 f"{', '.join(ALGORITHMS)} (default {DEFAULT_ALGORITHM}).")
    params = dict(params or {})
    if algorithm == "item_knn":
        from sklearn.neighbors import NearestNeighbors

        cls, allowed, size = NearestNeighbors, {"n_neighbors"}, "n_neighbors"
    else:
        from sklearn.decomposition import NMF, TruncatedSVD

        cls = TruncatedSVD if algorithm == "truncated_svd" else NMF
        allowed, size = set(cls().get_params()), "n_components"
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ConfigurationError(f"model '{model}': meta.params {', '.join(unknown)} is not a parameter of "
                                 f"{algorithm} ({cls.__name__}); its parameters are: {', '.join(sorted(allowed))}.")
    # TruncatedSVD needs fewer components than items; NMF's default nndsvda start at most min(users, items).
    limit = max(min(shape) - (algorithm != "nmf"), 1) if algorithm != "item_knn" else max(shape[1] - 1, 1)
    value = params.get(size)
    if value is None:
        params[size] = min(DEFAULT_COMPONENTS if size == "n_components" else DEFAULT_NEIGHBORS, limit)
    elif not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= limit:
        raise ConfigurationError(f"model '{model}': meta.params.{size} must be an integer from 1 to {limit} for "
                                 f"{shape[0]} users x {shape[1]} items with {algorithm}; got {value!r}.")
    if algorithm == "item_knn":
        if shape[1] < 2:
            raise TrainingDataError(f"model '{model}': item_knn needs at least 2 distinct items; got {shape[1]}.")
        return algorithm, NearestNeighbors(n_neighbors=params[size], metric="cosine", algorithm="brute")
    params.setdefault("random_state", random_state)
    return algorithm, cls(**params)


class Recommender:
    """What a recommendation version persists: the user and item values, the factors (user x item scores are
    ``user_factors @ item_factors.T``), the seen matrix and item popularity (for users it has never seen)."""

    def __init__(self, algorithm, estimator, users, items, user_factors, item_factors, seen, top_k):
        self.algorithm, self.estimator, self.top_k = algorithm, estimator, top_k
        self.users, self.items = users, items
        self.user_factors, self.item_factors, self.seen = user_factors, item_factors, seen
        self.popularity = np.bincount(seen.indices, minlength=len(items)) / max(len(users), 1)

    def get_params(self, deep=False):
        return {"algorithm": self.algorithm, **self.estimator.get_params(deep=False)}

    def __getstate__(self):
        return {key: value for key, value in self.__dict__.items() if key != "_user_index"}

    def scores(self, rows):
        """Dense scores (len(rows) x n_items) of users by row number."""
        block = self.user_factors[rows] @ self.item_factors.T
        return np.asarray(block.toarray() if hasattr(block, "toarray") else block, dtype=np.float64)

    def top_items(self, rows, k, exclude_seen=True):
        """``(items, scores)``: (len(rows) x k) arrays of item numbers (-1 past the last candidate), best first."""
        rows = np.asarray(rows, dtype=np.int64)
        items = np.full((len(rows), k), -1, dtype=np.int64)
        values = np.full((len(rows), k), -np.inf)
        step = max(1, _BLOCK_CELLS // max(len(self.items), 1))
        for start in range(0, len(rows), step):
            part = rows[start:start + step]
            items[start:start + step], values[start:start + step] = _top_k(
                self.scores(part), k, self.seen[part] if exclude_seen else None)
        return items, values

    def recommend(self, model, values, k=None, exclude_seen=True, cold_start="popular"):
        """Flat ``(position, item, rank, score)`` arrays for a batch of user values (position indexes ``values``).
        A user the model has not seen gets the most popular items (score: share of users who had the item) with
        cold_start 'popular', nothing with 'none'."""
        import pandas as pd

        k = self.top_k if k is None else k
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ScoringError(f"model '{model}': k must be a positive integer (the number of items per user); "
                               f"got {k!r}.")
        if cold_start not in COLD_START:
            raise ScoringError(f"model '{model}': cold_start '{cold_start}' is unknown; use one of "
                               f"{', '.join(COLD_START)}.")
        k = int(min(k, len(self.items)))
        if getattr(self, "_user_index", None) is None:  # built once per loaded version (a row-level call is one user)
            self._user_index = pd.Index(self.users)
        rows = self._user_index.get_indexer(np.asarray(values, dtype=object))
        known = np.flatnonzero(rows >= 0)
        items = np.full((len(rows), k), -1, dtype=np.int64)
        scores = np.full((len(rows), k), -np.inf)
        items[known], scores[known] = self.top_items(rows[known], k, exclude_seen)
        unknown = np.flatnonzero(rows < 0)
        if len(unknown) and cold_start == "popular":
            items[unknown], scores[unknown] = popular_top(self.popularity, k, None, len(unknown))
        present = items >= 0
        position = np.broadcast_to(np.arange(len(rows))[:, None], items.shape)[present]
        rank = np.broadcast_to(np.arange(1, k + 1), items.shape)[present]
        return position, items[present], rank, scores[present]


def top_k(scores, k, exclude=None):
    """The k best columns per row of ``scores`` (ties: the lower column first), skipping the stored entries of the
    CSR matrix ``exclude``; returns ``(columns, values)`` of shape (rows, k), -1 and -inf past the last candidate."""
    return _top_k(np.array(scores, dtype=np.float64), k, exclude)


def _top_k(scores, k, exclude):
    """top_k on a float64 array it may overwrite (the seen cells become -inf)."""
    n_rows, n_cols = scores.shape
    if exclude is not None and exclude.nnz:
        scores[np.repeat(np.arange(n_rows), np.diff(exclude.indptr)), exclude.indices] = -np.inf
    k = min(k, n_cols)
    if k == n_cols:
        picked = np.broadcast_to(np.arange(n_cols), scores.shape).copy()
    else:
        picked = np.argpartition(scores, n_cols - k, axis=1)[:, n_cols - k:]
        kth = np.take_along_axis(scores, picked, 1).min(axis=1)
        # argpartition picks arbitrarily among values tied with the k-th: in those rows take everything above it,
        # then the lowest columns equal to it.
        tied = np.flatnonzero((scores >= kth[:, None]).sum(axis=1) > k)
        if len(tied):
            block, bound = scores[tied], kth[tied, None]
            above, equal = block > bound, block == bound
            need = k - above.sum(axis=1, keepdims=True)
            chosen = above | (equal & (np.cumsum(equal, axis=1) <= need))
            picked[tied] = np.nonzero(chosen)[1].reshape(len(tied), k)
    values = np.take_along_axis(scores, picked, 1)
    order = np.lexsort((picked, -values), axis=1)
    picked, values = np.take_along_axis(picked, order, 1), np.take_along_axis(values, order, 1)
    picked[np.isneginf(values)] = -1
    return picked, values


def popular_top(popularity, k, seen, n_rows=None):
    """top_k of the same scores for every row (``popularity``), skipping each row's stored entries in the CSR
    matrix ``seen`` (None: nothing seen, ``n_rows`` rows): only the k + most-seen best columns are ever candidates."""
    n_cols = len(popularity)
    n_rows = seen.shape[0] if seen is not None else n_rows
    k = min(k, n_cols)
    most_seen = int(np.diff(seen.indptr).max(initial=0)) if seen is not None else 0
    candidates = np.lexsort((np.arange(n_cols), -popularity))[:min(n_cols, k + most_seen)]
    items = np.full((n_rows, k), -1, dtype=np.int64)
    step = max(1, _BLOCK_CELLS // max(len(candidates), 1))
    for start in range(0, n_rows, step):
        stop = min(start + step, n_rows)
        unseen = np.ones((stop - start, len(candidates)), dtype=bool)
        if seen is not None:
            block = seen[start:stop]
            owner = np.repeat(np.arange(stop - start), np.diff(block.indptr)).astype(np.int64)
            unseen = ~np.isin(np.arange(stop - start)[:, None] * n_cols + candidates, owner * n_cols + block.indices)
        place = np.cumsum(unseen, axis=1)
        row, column = np.nonzero(unseen & (place <= k))
        items[start + row, place[row, column] - 1] = candidates[column]
    values = np.where(items >= 0, popularity[np.maximum(items, 0)], -np.inf)
    return items, values


def fit_recommender(model, algorithm, params, random_state, interactions, matrix, top_k_):
    """Fit on ``matrix`` (the interactions, or their fit part); returns ``(Recommender, fit_seconds)``."""
    from sklearn.utils._param_validation import InvalidParameterError

    name, estimator = build_factoriser(model, algorithm, params, random_state, matrix.shape)
    if name == "nmf" and matrix.nnz and matrix.data.min() < 0:
        raise TrainingDataError(f"model '{model}': nmf factorises a non-negative matrix but the ratings go down to "
                                f"{matrix.data.min():g}; shift them in the training view or use truncated_svd.")
    started = time.perf_counter()
    caught = []  # ConvergenceWarning and friends are recorded with the version, not lost in the server log
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if name == "item_knn":
                estimator.fit(matrix.T.tocsr())
                graph = estimator.kneighbors_graph(None, mode="distance")  # X=None: not its own neighbour
                graph.data = 1.0 - graph.data  # cosine distance -> similarity
                user_factors, item_factors = matrix, graph.T.tocsr()  # scores = R @ S
            else:
                user_factors = estimator.fit_transform(matrix)
                item_factors = estimator.components_.T
    except InvalidParameterError as exc:
        raise ConfigurationError(f"model '{model}': meta.params for {name}: {exc}") from None
    except ValueError as exc:
        raise TrainingDataError(f"model '{model}': {type(estimator).__name__}.fit failed: {exc}") from None
    seconds = time.perf_counter() - started
    recommender = Recommender(name, estimator, interactions.users, interactions.items, user_factors, item_factors,
                              matrix, top_k_)
    recommender.fit_warnings = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    return recommender, seconds


def ranking_metrics(top, relevant, k):
    """Mean precision@k, recall@k, NDCG@k (binary relevance, log2 discount) and hit rate@k over the rows of the CSR
    matrix ``relevant`` that have a relevant item; ``top`` holds each row's recommended columns (-1 = none)."""
    n_relevant = np.diff(relevant.indptr)
    rows = np.flatnonzero(n_relevant)
    if not len(rows):
        return {}
    owner = np.repeat(np.arange(relevant.shape[0]), n_relevant)
    relevant_keys = owner.astype(np.int64) * relevant.shape[1] + relevant.indices
    top = np.asarray(top)[rows]
    hits = (top >= 0) & np.isin(rows[:, None].astype(np.int64) * relevant.shape[1] + top, relevant_keys)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.cumsum(discount)[np.minimum(n_relevant[rows], k) - 1]
    found = hits.sum(axis=1)
    return {"precision_at_k": float(np.mean(found / k)), "recall_at_k": float(np.mean(found / n_relevant[rows])),
            "ndcg_at_k": float(np.mean(hits[:, :k] @ discount[:hits.shape[1]] / ideal)),
            "hit_rate_at_k": float(np.mean(found > 0))}


def evaluate_and_fit(model, algorithm, params, random_state, interactions, *, holdout_size, top_k_, refit=True):
    """Hide part of each user's interactions, fit on the rest, rank the hidden ones; then refit on every interaction.

    Returns ``(Recommender, metrics, evaluation, fit_seconds)``; the evaluation records the same metrics for a
    most-popular-unseen-items baseline, so a version shows what the model adds.
    """
    matrix = interactions.matrix
    n_users, n_items = matrix.shape
    evaluation = {"split": "per-user holdout", "holdout_size": holdout_size, "top_k": top_k_, "users": n_users,
                  "items": n_items, "interactions": int(matrix.nnz), "duplicate_rows": interactions.duplicates,
                  "density": float(matrix.nnz / max(n_users * n_items, 1)), "holdout_rows": 0, "refit": False}
    hidden = holdout_entries(matrix, holdout_size, random_state) if holdout_size else np.zeros(matrix.nnz, bool)
    if not hidden.any():
        if holdout_size:
            evaluation["note"] = "no user has 2 or more interactions: no holdout, no ranking metrics"
        final, seconds = fit_recommender(model, algorithm, params, random_state, interactions, matrix, top_k_)
        return final, {}, evaluation, seconds
    fit_part, holdout = entries(matrix, ~hidden), entries(matrix, hidden)
    evaluated, seconds = fit_recommender(model, algorithm, params, random_state, interactions, fit_part, top_k_)
    users = np.flatnonzero(np.diff(holdout.indptr))
    metrics = _ranking(evaluated.top_items(users, top_k_)[0], holdout[users], top_k_, n_items)
    popular, _ = popular_top(np.bincount(fit_part.indices, minlength=n_items).astype(np.float64), top_k_,
                             fit_part[users])
    evaluation.update(holdout_rows=int(hidden.sum()), users_evaluated=len(users), refit=bool(refit),
                      baseline_popularity=_ranking(popular, holdout[users], top_k_, n_items))
    final = evaluated
    if refit:
        final, seconds = fit_recommender(model, algorithm, params, random_state, interactions, matrix, top_k_)
    if final.fit_warnings:
        evaluation["warnings"] = final.fit_warnings
    return final, metrics, evaluation, seconds


def _ranking(top, relevant, k, n_items):
    metrics = ranking_metrics(top, relevant, k)
    metrics["coverage"] = float(np.unique(top[top >= 0]).size / max(n_items, 1))
    return metrics
