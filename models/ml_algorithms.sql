-- Every estimator an ml_train model can name in meta.algorithm, one row each: scikit-learn's own listing plus XGBoost
-- and LightGBM (when allowed at install time), with its task and what it can do. A table: generating the list imports
-- all of scikit-learn in the database (seconds), so it is done once per build.
{{ config(materialized='table') }}

select
    name,
    task,
    class_path,
    package,
    predicts_probabilities,
    has_importances,
    can_score,
    needs_arguments,
    summary
from dbt_learn.algorithms()
order by task, name
