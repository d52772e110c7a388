"""The benchmark's Markdown table and PNG chart."""

import platform

import numpy as np


def machine_facts():
    import os

    import sklearn
    from threadpoolctl import threadpool_info

    blas = ", ".join(sorted({f"{i['internal_api']} ({i['num_threads']} threads)" for i in threadpool_info()}))
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, scikit-learn {sklearn.__version__}, {blas}")


def markdown(rows, facts):
    """rows: dicts with dataset, estimator, pipeline, train, score, total, vs_floor."""
    lines = [f"Machine: {facts}", "", "Medians of the repeats, in seconds; `vs D` is total ÷ the floor (D).", "",
             "| data | estimator | pipeline | train | score | total | vs D |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['dataset']} | {r['estimator']} | {r['pipeline']} | {r['train']:.3f} | {r['score']:.3f} "
                     f"| {r['total']:.3f} | {r['vs_floor']:.2f}× |")
    return "\n".join(lines) + "\n"


def chart(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = sorted({(r["dataset"], r["estimator"]) for r in rows})
    pipelines = sorted({r["pipeline"] for r in rows})
    width = 0.8 / len(pipelines)
    fig, ax = plt.subplots(figsize=(max(6, 1.8 * len(groups)), 4.5))
    for i, pipeline in enumerate(pipelines):
        values = [next((r["total"] for r in rows if (r["dataset"], r["estimator"]) == g and r["pipeline"] == pipeline),
                       np.nan) for g in groups]
        ax.bar(np.arange(len(groups)) + i * width, values, width, label=pipeline)
    ax.set_xticks(np.arange(len(groups)) + width * (len(pipelines) - 1) / 2)
    ax.set_xticklabels([f"{d}\n{e}" for d, e in groups], fontsize=8)
    ax.set_ylabel("train + score, seconds (median)")
    ax.set_title("dbt_learn in the database vs. the pipelines users would write")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
