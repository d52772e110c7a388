"""Connections to the private cluster, from the environment `make setup` writes (.dbt_learn_local/env)."""

import os

import psycopg


def connect(admin=False):
    prefix = "DBT_LEARN_ADMIN_" if admin else "DBT_LEARN_"
    return psycopg.connect(host=os.environ["DBT_LEARN_HOST"], port=os.environ["DBT_LEARN_PORT"],
                           dbname=os.environ["DBT_LEARN_DATABASE"], user=os.environ[prefix + "USER"],
                           password=os.environ[prefix + "PASSWORD"], autocommit=True)


def engine():
    from sqlalchemy import create_engine

    return create_engine(
        f"postgresql+psycopg://{os.environ['DBT_LEARN_USER']}:{os.environ['DBT_LEARN_PASSWORD']}"
        f"@{os.environ['DBT_LEARN_HOST']}:{os.environ['DBT_LEARN_PORT']}/{os.environ['DBT_LEARN_DATABASE']}")
