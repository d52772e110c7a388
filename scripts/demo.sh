#!/usr/bin/env bash
# The last step of `make demo` (run with .dbt_learn_local/env loaded): seeds from data sets bundled with
# scikit-learn, `dbt build` of demo/ (training views -> ml_train -> ml_score -> tests), then what was built.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
DBT="$REPO_ROOT/.venv/bin/dbt"
cd "$REPO_ROOT/demo"

if [ ! -f seeds/breast_cancer.csv ] || [ ! -f seeds/diabetes.csv ] || [ ! -f seeds/screenings.csv ]; then
  "$REPO_ROOT/.venv/bin/python" "$REPO_ROOT/scripts/demo_seeds.py" seeds
fi

# dbt connects through a session-mode pgbouncer: each model's connection gets a backend that has already imported
# scikit-learn (about 1 s per model otherwise). `make setup` lets the pool reconnect after a runtime reinstall.
bash "$REPO_ROOT/scripts/pgbouncer.sh" start
DBT_LEARN_PORT="$(bash "$REPO_ROOT/scripts/pgbouncer.sh" port)"
export DBT_LEARN_PORT

# Training, scoring and their tests as of now; then the monitored classifier, replayed day by day.
"$DBT" build --exclude tag:monitoring
echo
echo "dbt_learn demo: replaying ten days of screenings (a recalibrated scanner from day 7); monitoring tests warn:"
"$REPO_ROOT/.venv/bin/python" "$REPO_ROOT/scripts/replay.py" --project-dir "$REPO_ROOT/demo" --no-parents
"$REPO_ROOT/.venv/bin/python" "$REPO_ROOT/scripts/monitoring_plot.py" --model breast_cancer --min-value 0.85 \
  --out "$REPO_ROOT/demo/monitoring.png"

schema="${DBT_LEARN_SCHEMA:-dbt_learn_dev}"
export PGPASSWORD="$DBT_LEARN_PASSWORD"
# The DBT_LEARN_* variables come from .dbt_learn_local/env, loaded by scripts/with-env.sh.
psql_demo() {
  psql -X -q -h "${DBT_LEARN_HOST:?}" -p "$DBT_LEARN_PORT" -U "$DBT_LEARN_USER" -d "$DBT_LEARN_DATABASE" \
       -v ON_ERROR_STOP=1 -v schema="$schema"
}
echo
echo "dbt_learn demo: trained versions (registry table dbt_learn.model_versions, newest first):"
psql_demo <<'SQL'
select model_name, version, task, algorithm, training_rows,
       coalesce(round((metrics->>'accuracy')::numeric, 4), round((metrics->>'r2')::numeric, 4)) as holdout_score,
       round(fit_seconds::numeric, 3) as fit_s, trained_at::timestamp(0) as trained_at
from dbt_learn.model_versions
where model_schema = :'schema'
order by trained_at desc
limit 6;
SQL
echo "dbt_learn demo: first scores of new patients (table $schema.breast_cancer_scores):"
psql_demo <<'SQL'
select patient_id, prediction, round(probability_malignant::numeric, 4) as probability_malignant, model_version
from :"schema".breast_cancer_scores order by patient_id limit 5;
SQL
cat <<EOF
Where to look:
  make psql                                   # SQL on the private cluster as the dbt role, e.g.
                                              #   select * from $schema.diabetes_scores limit 5;
  demo/models/ml/                             # an ml_train SQL model and an ml_train dbt Python model
  demo/models/scoring/                        # ml_score models (tables refreshed on every dbt run)
  cd demo && ../.venv/bin/dbt docs generate   # lineage: training view -> trained model -> scores
  demo/models/monitoring/                     # prediction log, late labels, trailing performance, drift, tests
  demo/monitoring.png                         # trailing performance and drift per window (make monitor-plot)
EOF
