"""The benchmark's Markdown report (tables and the targets of issue 5) and its PNG chart."""

import platform

import numpy as np


def machine_facts():
    import os

    import sklearn
    from threadpoolctl import threadpool_info

    blas = ", ".join(sorted({f"{i['internal_api']} ({i['num_threads']} threads)" for i in threadpool_info()}))
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, Python "
            f"{platform.python_version()}, scikit-learn {sklearn.__version__}, {blas}")


def _s(value):
    return "—" if value is None else f"{value:.3f}"


def _mib(value):
    return "—" if value is None else f"{value / 2**20:.0f} MiB"


def targets(results):
    """Each target of issue 5 at 1M rows x 10 features (the largest such tables in this run): (name, figure, met)."""
    largest = max((r["rows"] for r in results["batch"] if r["features"] == 10), default=None)
    if largest is None:
        return []
    batch = [r for r in results["batch"] if r["rows"] == largest and r["features"] == 10 and not r["categorical"]]
    rows = []
    for group in sorted({(r["dataset"], r["estimator"]) for r in batch}):
        by = {r["pipeline"]: r for r in batch if (r["dataset"], r["estimator"]) == group}
        a, c, d = by["A dbt_learn (in database)"], by["C psycopg COPY"], by["D floor"]
        name = f"{group[0]} {group[1]}"
        rows.append((f"{name}: train + score ≤ 1.1× D", f"{a['vs_floor']:.2f}× D ({a['total']:.2f} s vs "
                     f"{d['total']:.2f} s)", a["vs_floor"] <= 1.1))
        rows.append((f"{name}: train no slower than C", f"{a['train']:.2f} s vs {c['train']:.2f} s",
                     a["train"] <= c["train"]))
        rows.append((f"{name}: score no slower than C", f"{a['score']:.2f} s vs {c['score']:.2f} s",
                     a["score"] <= c["score"]))
    for o in results["overhead"]:
        if o["rows"] == largest and o["features"] == 10 and not o["categorical"]:
            rows.append((f"{o['dataset']} {o['estimator']}: dbt overhead < 3 s per model",
                         f"{o['total_per_model']:.2f} s (imports {o['backend_import']:.2f} + dbt "
                         f"{o['dbt_per_model']:.2f})", o["total_per_model"] < 3))
    for m in results["memory"]:
        if m["rows"] == largest and m["features"] == 10 and not m["categorical"] and m["ratio"]:
            rows.append((f"{m['dataset']} {m['estimator']}: peak backend memory ≤ 2× the feature matrix",
                         f"{m['ratio']:.2f}× ({m['growth'] / 2**20:.0f} MiB above the {m['baseline'] / 2**20:.0f} "
                         f"MiB of imported libraries, vs {m['matrix'] / 2**20:.0f} MiB)", m["ratio"] <= 2))
    for estimator in sorted({o["estimator"] for o in results["online"]}):
        online = {(o["pipeline"], o["clients"]): o for o in results["online"] if o["estimator"] == estimator}
        most = max(clients for _, clients in online)
        sql, service = online[("E predict() in SQL", most)], online[("E microservice (Flask)", most)]
        ratio = sql["throughput"] / service["throughput"]
        rows.append((f"predict() {estimator}: throughput ≥ 8× the microservice at {most} clients",
                     f"{ratio:.2f}× ({sql['throughput']:.0f} vs {service['throughput']:.0f} rows/s)", ratio >= 8))
        single = online[("E predict() in SQL", 1)]
        rows.append((f"predict() {estimator}: single-row p50 < 1 ms", f"{single['p50_ms']:.2f} ms",
                     single["p50_ms"] < 1))
    return rows


def markdown(results):
    lines = [f"Machine: {results['machine']}", "",
             f"Medians of {results['repeats']} repeats, in seconds. `vs D` is total ÷ the floor (D). "
             "A (in database) is dbt's per-model time minus the scikit-learn import each fresh backend pays; that "
             "import and dbt's own start-up are in the overhead table.", "",
             "## Targets (1M rows × 10 features)", "", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {name} | {figure} | {'met' if met else 'not met'} |" for name, figure, met in targets(results)]
    lines += ["", "## Batch: train and score", "", "| data | estimator | pipeline | train | score | total | vs D |",
              "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['dataset']} | {r['estimator']} | {r['pipeline']} | {_s(r['train'])} | {_s(r['score'])} | "
              f"{_s(r['total'])} | {r['vs_floor']:.2f}× |" for r in results["batch"]]
    lines += ["", "## dbt overhead per model (A)", "",
              "| data | estimator | backend import | dbt start-up, parse, compile | total |", "|---|---|---|---|---|"]
    lines += [f"| {o['dataset']} | {o['estimator']} | {_s(o['backend_import'])} | {_s(o['dbt_per_model'])} | "
              f"{_s(o['total_per_model'])} |" for o in results["overhead"]]
    lines += ["", "## Peak backend memory (A: RssAnon of the largest backend; baseline: a backend after its imports)",
              "", "| data | estimator | peak | baseline | growth | float64 feature matrix | growth ÷ matrix |",
              "|---|---|---|---|---|---|---|"]
    lines += [f"| {m['dataset']} | {m['estimator']} | {_mib(m['peak_backend'])} | {_mib(m['baseline'])} | "
              f"{_mib(m['growth'])} | {_mib(m['matrix'])} | {m['ratio'] or 0:.2f}× |" for m in results["memory"]]
    if results["online"]:
        lines += ["", f"## Online: one row per request ({results['online'][0]['dataset']})", "",
                  "| estimator | clients | pipeline | p50 ms | p99 ms | rows/s |", "|---|---|---|---|---|---|"]
        lines += [f"| {o['estimator']} | {o['clients']} | {o['pipeline']} | {o['p50_ms']:.2f} | {o['p99_ms']:.2f} | "
                  f"{o['throughput']:.0f} |" for o in results["online"]]
    if results["remote"]:
        lines += ["", f"## Remote database (F: a network namespace over a shaped veth link; SQL round trip "
                      f"{results['remote'][0]['round_trip_ms']:.2f} ms; shaping in the notes below)", "",
                  "| data | estimator | pipeline | train | score | total |", "|---|---|---|---|---|---|"]
        lines += [f"| {r['dataset']} | {r['estimator']} | {r['pipeline']} | {_s(r['train'])} | {_s(r['score'])} | "
                  f"{_s(r['total'])} |" for r in results["remote"]]
    if results["notes"]:
        lines += ["", *[f"- {note}" for note in results["notes"]]]
    return "\n".join(lines) + "\n"


def chart(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["batch"] + results["remote"]
    groups = sorted({(r["dataset"], r["estimator"]) for r in rows})
    pipelines = sorted({r["pipeline"] for r in rows})
    width = 0.8 / len(pipelines)
    fig, ax = plt.subplots(figsize=(max(8, 1.6 * len(groups)), 5))
    for i, pipeline in enumerate(pipelines):
        values = [next((r["total"] for r in rows if (r["dataset"], r["estimator"]) == g and r["pipeline"] == pipeline),
                       np.nan) for g in groups]
        ax.bar(np.arange(len(groups)) + i * width, values, width, label=pipeline)
    ax.set_xticks(np.arange(len(groups)) + width * (len(pipelines) - 1) / 2)
    ax.set_xticklabels([f"{d}\n{e}" for d, e in groups], fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("train + score, seconds (median, log scale)")
    ax.set_title("dbt_learn in the database vs. the pipelines users would write")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
