"""The model report: per trained model and version an HTML page with PNG plots, read from the registry (and, for
monitoring, from the tables the monitoring models built). Client-side only: run ``python -m dbt_learn.report``
(``make report``). matplotlib is imported when a plot is drawn, never when the runtime loads."""
