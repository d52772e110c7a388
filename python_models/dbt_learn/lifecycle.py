"""When to retrain and which version to deploy: pure decisions, tested without a database."""

import hashlib
import json

from .errors import ConfigurationError
from .evaluation import LOWER_IS_BETTER, check_metric, is_better

RETRAIN_POLICIES = ("on_change", "always", "interval")
DEPLOY_STRATEGIES = ("most_recent", "best_score", "pinned")
# What a version was trained with, besides its data; a change in any of these means on_change retrains.
FINGERPRINTED_OPTIONS = ("algorithm", "params", "features", "target", "id_columns", "exclude_columns", "random_state",
                         "holdout_size", "refit", "split", "split_column", "cv_folds")
# Options added with runtime 0.5.0 count only when they differ from their default, so a version trained before they
# existed keeps its fingerprint and is not retrained just for the upgrade.
OPTIONAL_FINGERPRINTED = {"preprocessing": "auto", "threshold": None, "search": None, "task": None, "top_k": 10,
                          "user_column": None, "item_column": None, "rating_column": None}


def config_fingerprint(spec, code=None):
    """sha256 of the options that shape a fit (and of a Python model's code)."""
    options = {key: spec.get(key) for key in FINGERPRINTED_OPTIONS}
    options.update({key: spec[key] for key, default in OPTIONAL_FINGERPRINTED.items()
                    if spec.get(key, default) != default})
    digest = hashlib.sha256(json.dumps(options, sort_keys=True, default=str).encode())
    if code is not None:
        digest.update(code.encode())
    return digest.hexdigest()


def check_lifecycle_options(model, spec, task):
    """Validate retrain and deployment options once, before any data moves."""
    policy = spec.get("retrain_policy") or "on_change"
    if policy not in RETRAIN_POLICIES:
        raise ConfigurationError(f"model '{model}': meta.retrain_policy '{policy}' is unknown; use one of "
                                 f"{', '.join(RETRAIN_POLICIES)}.")
    strategy = spec.get("deploy_strategy") or "most_recent"
    if strategy not in DEPLOY_STRATEGIES:
        raise ConfigurationError(f"model '{model}': meta.deploy_strategy '{strategy}' is unknown; use one of "
                                 f"{', '.join(DEPLOY_STRATEGIES)}.")
    if strategy == "best_score":
        if not spec.get("deploy_metric"):
            raise ConfigurationError(f"model '{model}': meta.deploy_strategy 'best_score' needs meta.deploy_metric.")
        check_metric(model, task, spec["deploy_metric"], "meta.deploy_metric")
        if spec.get("deploy_direction") not in (None, "higher", "lower"):
            raise ConfigurationError(f"model '{model}': meta.deploy_direction must be 'higher' or 'lower'.")
    if strategy == "pinned" and not isinstance(spec.get("deploy_version"), int):
        raise ConfigurationError(f"model '{model}': meta.deploy_strategy 'pinned' needs meta.deploy_version, a "
                                 f"version number.")


def unchanged_since(candidates, data_fingerprint, config_fingerprint_):
    """The reason to skip an on_change retraining, or None when something changed.

    ``candidates`` are the deployed and the newest version: matching the deployed one keeps a rollback in place,
    matching the newest keeps a version that best_score did not deploy from being fitted again and again.
    """
    for version in candidates:
        if version is not None and version["data_fingerprint"] == data_fingerprint \
                and version["config_fingerprint"] == config_fingerprint_:
            return f"training data and configuration unchanged since v{version['version']}"
    return None


def training_reason(spec, versions, data_fingerprint, config_fingerprint_):
    """Why a new version is trained, for the log and the registry's ``training_reason``.

    ``versions`` are the deployed and the newest version (as for ``unchanged_since``); ``spec["training_reason"]``
    is what the materialization decided (--full-refresh, a retrain_on breach, the always or interval policy).
    """
    if not versions:
        return "first version"
    if spec.get("training_reason"):
        return spec["training_reason"]
    newest = max(versions, key=lambda version: version["version"])
    changed = [what for what, key, fingerprint in (("training data", "data_fingerprint", data_fingerprint),
                                                   ("configuration", "config_fingerprint", config_fingerprint_))
               if newest[key] != fingerprint]
    return f"{' and '.join(changed or ['training data or configuration'])} changed since v{newest['version']}"


def deployment_decision(spec, new_version, new_metrics, deployed):
    """``(version or None, strategy, reason)``: what to deploy after a training run.

    ``new_version`` is None when training was skipped; ``deployed`` is ``(version, metrics)`` or None.
    """
    strategy = spec.get("deploy_strategy") or "most_recent"
    if strategy == "pinned":
        return spec["deploy_version"], strategy, f"pinned to v{spec['deploy_version']} by meta.deploy_version"
    if new_version is None:
        return None, strategy, "no new version"
    if strategy == "most_recent" or deployed is None:
        return new_version, strategy, "newest version"
    metric = spec["deploy_metric"]
    candidate, incumbent = new_metrics.get(metric), deployed[1].get(metric)
    direction = spec.get("deploy_direction")
    lower = metric in LOWER_IS_BETTER if direction is None else direction == "lower"
    if is_better(candidate, incumbent, lower):
        return new_version, strategy, f"{metric} {_show(candidate)} beats {_show(incumbent)} of v{deployed[0]}"
    return None, strategy, f"{metric} {_show(candidate)} does not beat {_show(incumbent)} of deployed v{deployed[0]}"


def _show(value):
    return "none" if value is None else f"{value:.6g}"
