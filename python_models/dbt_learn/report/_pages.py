"""The report's HTML: an index of models and versions, and one self-contained page per version (its PNGs sit next
to it and are linked relatively, so the folder can be copied or zipped as it is)."""

import html
import pathlib

from ..evaluation import HEADLINE
from . import _monitoring, _plots

STYLE = """body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 16px}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f3f3f3}
.plots{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0}figcaption{font-size:13px;color:#555}
.note{background:#fff6d5;border:1px solid #e0c860;padding:8px 12px;max-width:1100px}.serving{color:#1a7f37}"""


def _e(value):
    return html.escape("" if value is None else str(value))


def _document(title, body):
    return (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{_e(title)}</title>"
            f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n")


def page_path(schema, name, version):
    """The page of a version, relative to the report's folder."""
    return pathlib.Path(schema) / name / f"v{version}.html"


def _figure(src, title, width, height):
    return (f'<figure><img src="{_e(src)}" width="{width}" height="{height}" alt="{_e(title)}">'
            f"<figcaption>{_e(title)}</figcaption></figure>")


def _version_plots(version, folder):
    """[(file name, title)] of the version's own plots, drawn into ``folder``."""
    stem, drawn = f"v{version['version']}", []
    diagnostics = version.get("diagnostics") or {}

    def draw(kind, function, *args):
        file_name = f"{stem}_{kind}.png"
        drawn.append((file_name, function(*args, folder / file_name)))

    if diagnostics.get("task") == "classification":
        draw("confusion_matrix", _plots.confusion_matrix, diagnostics)
        if diagnostics.get("roc"):
            draw("roc", _plots.roc, diagnostics)
            draw("precision_recall", _plots.precision_recall, diagnostics)
            draw("calibration", _plots.calibration, diagnostics)
    elif diagnostics.get("task") == "regression":
        draw("predicted_vs_actual", _plots.predicted_vs_actual, diagnostics)
        draw("residuals", _plots.residuals, diagnostics)
    if version.get("feature_importances"):
        draw("importances", _plots.importances, version["feature_importances"])
    return drawn


def _notes(version):
    notes = []
    if not version.get("diagnostics"):
        if version.get("task") not in ("classification", "regression"):
            notes.append(f"A {version.get('task')} model has no holdout diagnostics to plot.")
        elif not version.get("holdout_rows"):
            notes.append("This version has no holdout (meta.holdout_size 0, or fitted by the model's own code), so "
                         "there is no confusion matrix, curve or predicted-vs-actual plot.")
        else:
            notes.append("This version was trained before dbt_learn recorded diagnostics (runtime 0.8.0), so its "
                         "holdout plots are not available. Retrain it (dbt run --full-refresh -s <model>) to get them; "
                         "its metrics, importances and history are shown below.")
    if not version.get("feature_importances"):
        notes.append("No feature importances were recorded for this version (meta.importances false, or none known).")
    return "".join(f'<p class="note">{_e(n)}</p>' for n in notes)


def write_model(out, versions, monitoring=None, window="1 day"):
    """Write the pages of one model's versions (oldest first) under ``out``; returns their paths (relative)."""
    schema, name = versions[0]["model_schema"], versions[0]["model_name"]
    folder = out / schema / name
    folder.mkdir(parents=True, exist_ok=True)
    headline = HEADLINE.get(versions[-1]["task"])
    monitoring_figure = ""
    if monitoring is not None:
        width, height = _monitoring.plot(monitoring["perf"], monitoring["drift"], monitoring["predicted"],
                                         f"{name}: trailing {monitoring['window']} performance and drift",
                                         folder / "monitoring.png")
        monitoring_figure = ("<h2>Monitoring</h2><p>From the monitoring models built on this model (whichever version "
                             "served at the time).</p><div class=\"plots\">"
                             + _figure("monitoring.png", "Trailing performance and drift", 1100,
                                       round(1100 * height / width)) + "</div>")
    written = []
    for version in versions:
        figures = [_figure(src, title, _plots.WIDTH, _plots.HEIGHT) for src, title in _version_plots(version, folder)]
        if headline and any((v["metrics"] or {}).get(headline) is not None for v in versions):
            src = f"v{version['version']}_history.png"
            figures.append(_figure(src, _plots.history(versions, headline, folder / src, version["version"]),
                                   _plots.WIDTH, _plots.HEIGHT))
        links = " ".join(f'<a href="v{v["version"]}.html">v{v["version"]}</a>' if v is not version
                         else f"<b>v{v['version']}</b>" for v in versions)
        serving = ' <span class="serving">(serving)</span>' if version.get("serving") else ""
        metrics = "".join(f"<tr><th>{_e(k)}</th><td>{_e(_number(v))}</td></tr>"
                          for k, v in sorted((version["metrics"] or {}).items()) if not isinstance(v, (list, dict)))
        facts = "".join(f"<tr><th>{_e(label)}</th><td>{_e(version.get(key))}</td></tr>" for label, key in (
            ("task", "task"), ("algorithm", "algorithm"), ("language", "language"), ("trained at", "trained_at"),
            ("why trained", "training_reason"), ("training rows", "training_rows"), ("holdout rows", "holdout_rows")))
        body = (f'<p><a href="../../index.html">All models</a> · versions: {links}</p>'
                f"<h1>{_e(schema)}.{_e(name)} version {version['version']}{serving}</h1>"
                f"<table>{facts}</table><h2>Holdout metrics</h2><table>{metrics or '<tr><td>none</td></tr>'}</table>"
                f"{_notes(version)}<h2>Plots</h2><div class=\"plots\">{''.join(figures)}</div>{monitoring_figure}")
        path = page_path(schema, name, version["version"])
        (out / path).write_text(_document(f"{schema}.{name} v{version['version']}", body))
        written.append(path)
    return written


def _number(value):
    return f"{value:.4g}" if isinstance(value, float) else value


def write_index(out, models):
    """The index: one row per model and version, linking to its page. ``models``: {(schema, name): versions}."""
    rows = []
    for (schema, name), versions in sorted(models.items()):
        headline = HEADLINE.get(versions[-1]["task"])
        for version in reversed(versions):
            value = (version["metrics"] or {}).get(headline)
            rows.append(f"<tr><td>{_e(schema)}</td><td>{_e(name)}</td>"
                        f'<td><a href="{_e(page_path(schema, name, version["version"]).as_posix())}">'
                        f"v{version['version']}</a>{' (serving)' if version.get('serving') else ''}</td>"
                        f"<td>{_e(version['task'])}</td><td>{_e(version['algorithm'])}</td>"
                        f"<td>{_e(headline)} {_e(_number(value))}</td><td>{_e(version['trained_at'])}</td></tr>")
    body = ("<h1>dbt_learn model report</h1><table><tr><th>schema</th><th>model</th><th>version</th><th>task</th>"
            "<th>algorithm</th><th>headline metric (holdout)</th><th>trained at</th></tr>"
            + "".join(rows) + "</table>" if rows else "<h1>dbt_learn model report</h1><p>No trained models.</p>")
    (out / "index.html").write_text(_document("dbt_learn model report", body))
    return pathlib.Path("index.html")
