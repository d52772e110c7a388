"""(E) The microservice users run next to the database: Flask under gunicorn. GET /predict/<id> looks the row up in
Postgres and predicts it with the same estimator dbt_learn serves (loaded from the registry's artifact).

Configured by environment: DBT_LEARN_* connection settings, BENCH_TABLE (schema.table), BENCH_FEATURES (comma
separated) and BENCH_ARTIFACT (the registry's artifact, skops or joblib). Started by ``benchmarks.online``; not part
of the package.
"""

import os
import pathlib
import threading

import numpy as np
import psycopg
from flask import Flask, jsonify
from psycopg import sql

from dbt_learn.serialization import load_exported

app = Flask(__name__)
_estimator = load_exported(pathlib.Path(os.environ["BENCH_ARTIFACT"]).read_bytes())
_schema, _table = os.environ["BENCH_TABLE"].split(".")
_query = sql.SQL("select {} from {}.{} where id = %s").format(
    sql.SQL(", ").join(sql.Identifier(name) for name in os.environ["BENCH_FEATURES"].split(",")),
    sql.Identifier(_schema), sql.Identifier(_table))
_local = threading.local()


def _connection():
    # One connection per server thread, opened once: what a pooled service does.
    if getattr(_local, "conn", None) is None:
        _local.conn = psycopg.connect(host=os.environ["DBT_LEARN_HOST"], port=os.environ["DBT_LEARN_PORT"],
                                      dbname=os.environ["DBT_LEARN_DATABASE"], user=os.environ["DBT_LEARN_USER"],
                                      password=os.environ["DBT_LEARN_PASSWORD"], autocommit=True,
                                      prepare_threshold=0,
                                      application_name=os.environ.get("BENCH_APPLICATION_NAME", "microservice"))
    return _local.conn


@app.get("/predict/<int:row_id>")
def predict(row_id):
    row = _connection().execute(_query, [row_id]).fetchone()
    if row is None:
        return jsonify(error="no such row"), 404
    return jsonify(prediction=float(_estimator.predict(np.array([row], dtype=np.float64))[0]))


@app.get("/health")
def health():
    return jsonify(ok=True)
