# Bumped with every change to the runtime's SQL-facing behaviour; the dbt macros refuse to run against a database
# whose installed runtime differs (macros/install/runtime_version.sql carries the same number).
__version__ = "0.9.0"
