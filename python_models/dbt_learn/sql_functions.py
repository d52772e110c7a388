"""The runtime's entry points: one per PL/Python function of the install, under that function's name.

Every PL/Python body in macros/install/ loads this module once per backend (``plpython_boot``) and makes one call,
``runtime.<the SQL function's own name>(...)``. ``ENTRY_POINTS`` says where each is implemented; a module is imported
on the first call of one of its functions, so a backend that only scores never imports the training code.
tests/unit/test_sql_functions.py holds the SQL functions and this table equal.
"""

import importlib

from ._version import __version__

ENTRY_POINTS = {
    # SQL function dbt_learn.<name>: (module of dbt_learn, function)
    "runtime_info": ("_in_database", "runtime_info"),
    "loaded_runtime_version": ("sql_functions", "loaded_runtime_version"),
    "describe_algorithm": ("_in_database", "describe_algorithm"),
    "algorithms": ("_in_database", "algorithms"),
    # training
    "train_query": ("_training_read", "train_query"),
    "train_staged": ("_training_entry", "train_staged"),
    "train_python": ("_in_database", "train_python_model"),
    "train_continue": ("_search_entry", "train_continue"),
    "train_recommender": ("_recommend_entry", "train_recommender"),
    "keep_serving": ("_in_database", "keep_serving"),
    # ml_score's streaming
    "score_relation": ("_streaming", "score_relation"),
    "scoring_table": ("_score_tables", "scoring_table"),
    "load_scoring_model": ("_score_tables", "load_scoring_model"),
    "append_scores": ("_score_tables", "append_scores"),
    # row level: predict, predict_class and predict_proba (plpgsql) call score_row
    "score_row": ("_scoring_entry", "predict_row"),
    "preprocess_row": ("_scoring_entry", "preprocess_row"),
    # batch scoring kept for views built before 0.7.0 (predict_batch, plpgsql, calls it)
    "predict_into_temp": ("_scoring_entry", "predict_into_temp"),
    # recommendation
    "recommend_into_temp": ("_recommend_entry", "recommend_into_temp"),
    "recommend": ("_recommend_entry", "recommend_row"),
    # python_table / python_incremental models
    "python_frame": ("_frame_entry", "python_frame"),
    "python_frame_into_temp": ("_frame_entry", "python_frame_into_temp"),
}

__all__ = ["__version__", *ENTRY_POINTS]


def loaded_runtime_version():
    """The runtime this backend loaded: a pooled backend keeps this module, and its version, across a reinstall."""
    return __version__


def __getattr__(name):
    try:
        module, function = ENTRY_POINTS[name]
    except KeyError:
        raise AttributeError(f"dbt_learn.sql_functions has no entry point {name!r}") from None
    entry_point = getattr(importlib.import_module(f".{module}", __package__), function)
    globals()[name] = entry_point  # later calls find it without coming here
    return entry_point
