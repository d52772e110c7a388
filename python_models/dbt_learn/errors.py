"""Exceptions raised by the runtime. Each message names the model, the offending value and what to do."""


class DbtLearnError(Exception):
    """Base class: a problem the user can fix (configuration, data, model code)."""


class ConfigurationError(DbtLearnError, ValueError):
    """An option of an ml_train or ml_score model is wrong (unknown algorithm, hyperparameter, ...)."""


class TrainingDataError(DbtLearnError, ValueError):
    """The training rows cannot be used as they are (empty, NULL target, wrong types)."""


class ScoringError(DbtLearnError, ValueError):
    """The rows to score do not match the trained model."""


class ModelCodeError(DbtLearnError):
    """A dbt Python model raised, or returned something that is not a scikit-learn estimator."""


class ModelAccessError(DbtLearnError, PermissionError):
    """The calling role may not use the schema of the model it names."""
