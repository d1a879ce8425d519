"""Shared benchmark helpers: timing, bandwidth, environment, result files.

Conventions (all families): fixed seeds; peers run side by side in the same
process; every row reports sizes, dtype, threads and the ratio ours / peer; results
are written as JSON (``bench/results/<family>.json``) and as a Markdown table
(``bench/results/<family>.md``) that the README and docs copy.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def timeit(fn: Callable[[], Any], *, repeat: int = 5, number: int = 1, warmup: int = 1) -> Dict[str, float]:
    """Best and median wall time of ``fn`` over ``repeat`` runs (seconds per call)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return {"best": float(min(times)), "median": float(np.median(times)), "repeat": repeat}


def measure_bandwidth(nbytes: int = 1 << 28, repeat: int = 5) -> float:
    """Sustained memory bandwidth in bytes/s: a large NumPy copy reads and writes ``nbytes`` each."""
    src = np.ones(nbytes // 8, dtype=np.float64)
    dst = np.empty_like(src)
    t = timeit(lambda: np.copyto(dst, src), repeat=repeat)["best"]
    return 2.0 * src.nbytes / t


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (Linux: ru_maxrss in KiB)."""
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def environment(threads: Optional[int] = None, extra: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Machine and library versions recorded with every result file."""
    import scipy

    try:
        import adasolve
        from adasolve import _core

        ada = {"adasolve": adasolve.__version__, "openmp_threads": _core.max_threads()}
    except Exception as exc:  # pragma: no cover
        ada = {"adasolve": f"unavailable: {exc}"}
    env = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "threads": threads,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        **ada,
    }
    if extra:
        env.update(extra)
    return env


def fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "–"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if x != x:
            return "nan"
        if x == 0:
            return "0"
        if abs(x) >= 1e4 or abs(x) < 1e-3:
            return f"{x:.{digits - 1}e}"
        return f"{x:.{digits}g}"
    return str(x)


def markdown_table(rows: Sequence[Dict[str, Any]], columns: Optional[Sequence[str]] = None) -> str:
    if not rows:
        return "(no rows)\n"
    cols = list(columns) if columns else list(rows[0].keys())
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for r in rows:
        out.append("| " + " | ".join(fmt(r.get(c)) for c in cols) + " |")
    return "\n".join(out) + "\n"


def write_results(
    family: str,
    sections: Dict[str, List[Dict[str, Any]]],
    env: Dict[str, Any],
    *,
    notes: str = "",
    columns: Optional[Dict[str, Sequence[str]]] = None,
) -> Path:
    """Write ``bench/results/<family>.json`` and ``.md``; return the Markdown path.

    ``sections`` maps a section title to its rows (dicts); ``columns`` optionally
    fixes the column order per section.
    """
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"family": family, "environment": env, "sections": sections, "notes": notes}
    (RESULTS / f"{family}.json").write_text(json.dumps(payload, indent=2, default=_json_default))
    md = [f"# Benchmark: {family}\n", _env_line(env) + "\n"]
    if notes:
        md.append(notes.strip() + "\n")
    for title, rows in sections.items():
        md.append(f"\n## {title}\n\n")
        md.append(markdown_table(rows, (columns or {}).get(title)))
    path = RESULTS / f"{family}.md"
    path.write_text("".join(md))
    return path


def _env_line(env: Dict[str, Any]) -> str:
    keys = ["date", "processor", "cpu_count", "threads", "python", "numpy", "scipy", "adasolve"]
    return "Environment: " + ", ".join(f"{k}={env.get(k)}" for k in keys if k in env)


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
