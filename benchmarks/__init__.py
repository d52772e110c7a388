"""`make bench`: dbt_learn against the pipelines users would otherwise write, on one machine, in one run."""
