"""The BCD user guide's figures, drawn from the curves the benchmark saved.

Run: ``python -m bench.bcd_plot [--curves bench/results/bcd_curves.json] [--out docs]``
(``python -m bench bcd`` calls it after a full-size run; ``python -m bench bcd --figure-data``
re-runs only the curves drawn here). Each figure answers one question, has one shared legend
and two rows of panels: f(x) - f* against iterations (top) and against wall time (bottom).
Writes ``docs/bcd_<figure>.svg`` and ``.png``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CURVES = ROOT / "bench" / "results" / "bcd_curves.json"

# colour per method, line style per block structure (solid: variable, dotted: fixed sorted)
RULE_COLOURS = {"random": "#9e9e9e", "cyclic": "#8c564b", "gs": "#1f77b4", "gsl": "#d62728"}
UPDATE_COLOURS = {"gradient": "#9e9e9e", "lipschitz": "#1f77b4", "newton": "#d62728",
                  "PG": "#9e9e9e", "PN": "#1f77b4", "TMP": "#d62728"}
UPDATE_NAMES = {"gradient": "gradient step", "lipschitz": "Lipschitz-matrix step", "newton": "Newton step",
                "PG": "projected gradient (update='gradient')", "PN": "exact block QP (update='lipschitz')",
                "TMP": "two-metric projection (update='newton')"}
BLOCK_STYLES = {"variable": "-", "sorted": ":"}
BLOCK_NAMES = {"variable": "variable blocks", "sorted": "fixed blocks (sorted)"}
TREE_STYLES = {  # label propagation: forest blocks (message passing) against flat blocks
    "greedy tree (gsl)": ("#d62728", "-"), "random tree": ("#9e9e9e", "-"),
    "tree partition": ("#2ca02c", "-"), "red-black": ("#ff7f0e", "-"),
    "exact VB": ("#1f77b4", "--"), "exact FB": ("#1f77b4", ":"), "gradient FB": ("#9e9e9e", ":")}
PROBLEM_NAMES = {"A": "A: least squares", "B": "B: logistic", "C": "C: softmax (50 classes)",
                 "D": "D: lattice (label prop.)", "E": "E: two moons (label prop.)",
                 "A nonneg L1": "A: non-negative L1 least squares"}


def _tree_key(label):
    for key in ("VB", "FB"):
        if f"-{key} " in label:
            return ("exact " if "exact" in label else "gradient ") + key
    return label


def _tree_name(key, labels):
    long = {"exact VB": "flat variable blocks, exact (gsl)", "exact FB": "flat fixed blocks, exact (gsl)",
            "gradient FB": "flat fixed blocks, gradient (gsl)", "greedy tree (gsl)": "greedy forest (gsl)",
            "random tree": "random forest", "tree partition": "forest partition (cyclic)",
            "red-black": "red-black colouring (cyclic)"}
    k = [lab.split("k=")[1].split()[0] for lab in labels if _tree_key(lab) == key and "k=" in lab]
    return long.get(key, key) + (f", k={k[0]}" if k else "")


def _figure(plt, panels, handles, title, path_stem, fmt_col):
    """panels: list of (column title, [(x_iter, x_time, gap, colour, style)]) drawn in two rows."""
    from matplotlib.ticker import LogLocator, NullFormatter

    n = len(panels)
    width = max(3.4 * n + 0.6, 8.0)
    fig, axes = plt.subplots(2, n, figsize=(width, 6.2), squeeze=False, sharey="col")
    for j, (col, lines) in enumerate(panels):
        for row, xkey in enumerate(("iteration", "time")):
            ax = axes[row][j]
            for c in lines:
                xs, gap = c[xkey], c["gap"]
                if xkey == "iteration" and c.get("max_iter"):
                    # flat blocks get many more (cheap) iterations than tree blocks: the iteration
                    # row compares the first max_iter of each, the time row all of them
                    keep = [i for i, it in enumerate(c["iteration"]) if it <= c["max_iter"]]
                    xs, gap = [xs[i] for i in keep], [gap[i] for i in keep]
                ax.semilogy(xs, gap, color=c["colour"], ls=c["style"], lw=1.6)
            lo, hi = ax.get_ylim()
            if hi / lo > 100:  # several decades: label the powers of ten only
                ax.yaxis.set_major_locator(LogLocator(base=10, numticks=6))
                ax.yaxis.set_minor_formatter(NullFormatter())
            ax.grid(alpha=0.3, which="major")
            ax.tick_params(labelsize=8)
            if row == 0:
                ax.set_title(fmt_col(col), fontsize=10)
            ax.set_xlabel("iterations" if xkey == "iteration" else "wall time (s)", fontsize=9)
            if j == 0:
                ax.set_ylabel("f(x) - f*  (lower is better)", fontsize=9)
    fig.suptitle(title, fontsize=11)
    ncol = min(len(handles), 4 if width > 10 else 2)
    fig.legend(handles=handles, loc="lower center", ncol=ncol, fontsize=9, frameon=False)
    rows = -(-len(handles) // ncol)
    fig.tight_layout(rect=(0, 0.04 + 0.035 * rows, 1, 0.97))
    for ext in ("svg", "png"):
        fig.savefig(f"{path_stem}.{ext}", dpi=80)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.bcd_plot")
    ap.add_argument("--curves", default=str(CURVES))
    ap.add_argument("--out", default=str(ROOT / "docs"))
    args = ap.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    curves = json.loads(Path(args.curves).read_text())["curves"]
    out = Path(args.out)

    def pick(fig, **kw):
        return [c for c in curves if c["figure"] == fig and all(c.get(k) == v for k, v in kw.items())]

    def style(cs, colour_of, style_of):
        return [dict(c, colour=colour_of(c), style=style_of(c)) for c in cs]

    def block_handles():
        return [Line2D([], [], color="k", ls=BLOCK_STYLES[b], lw=1.6, label=BLOCK_NAMES[b]) for b in BLOCK_STYLES]

    # 1. selection rules: greedy beats random and cyclic; variable blocks help the greedy rules
    k = 50
    rules = [r for r in RULE_COLOURS if pick("rules", rule=r, k=k)]
    panels = [(p, style([c for c in pick("rules", problem=p, k=k) if c["rule"] in rules],
                        lambda c: RULE_COLOURS[c["rule"]], lambda c: BLOCK_STYLES[c["blocks"]]))
              for p in "ABCDE" if pick("rules", problem=p, k=k)]
    if panels:
        handles = [Line2D([], [], color=RULE_COLOURS[r], lw=2.5, label=f"rule='{r}'") for r in rules] + block_handles()
        _figure(plt, panels, handles, f"Selection rules: greedy (gs, gsl) against random and cyclic "
                f"(blocks of {k}, gradient update)", out / "bcd_rules", lambda p: PROBLEM_NAMES[p])

    # 2. block updates: matrix and Newton steps against the gradient step (greedy gsl, blocks of 5)
    panels = [(p, style(pick("updates", problem=p, k=5, rule="gsl"), lambda c: UPDATE_COLOURS[c["update"]],
                        lambda c: BLOCK_STYLES[c["blocks"]])) for p in "ABC" if pick("updates", problem=p, k=5)]
    if panels:
        upds = list(dict.fromkeys(c["update"] for _, cs in panels for c in cs))
        handles = [Line2D([], [], color=UPDATE_COLOURS[u], lw=2.5, label=f"update='{u}'") for u in upds]
        _figure(plt, panels, handles + block_handles(), "Block updates (rule gsl, blocks of 5): Newton and "
                "Lipschitz-matrix steps against the gradient step",
                out / "bcd_updates", lambda p: PROBLEM_NAMES[p] + (" (Newton = Lipschitz matrix)" if p == "A" else ""))

    # 3. non-negative L1 least squares: PG, PN, TMP for three block sizes
    ks = sorted({c["k"] for c in pick("nonneg")})
    panels = [(kk, style(pick("nonneg", k=kk), lambda c: UPDATE_COLOURS[c["update"]],
                         lambda c: BLOCK_STYLES[c["blocks"]])) for kk in ks]
    if panels:
        handles = [Line2D([], [], color=UPDATE_COLOURS[u], lw=2.5, label=UPDATE_NAMES[u]) for u in ("PG", "PN", "TMP")]
        _figure(plt, panels, handles + block_handles(), "Non-negative L1 least squares (data set A, rule gsd): "
                "the exact block steps beat projected gradient", out / "bcd_nonneg", lambda kk: f"blocks of {kk}")

    # 4. label propagation: forest blocks by message passing against flat blocks
    tcs = pick("trees")
    panels = [(p, style([c for c in tcs if c["problem"] == p], lambda c: TREE_STYLES[_tree_key(c["label"])][0],
                        lambda c: TREE_STYLES[_tree_key(c["label"])][1])) for p in ("D", "E")
              if any(c["problem"] == p for c in tcs)]
    if panels:
        labels = [c["label"] for c in tcs]
        keys = list(dict.fromkeys(_tree_key(lab) for lab in labels))
        handles = [Line2D([], [], color=TREE_STYLES[kk][0], ls=TREE_STYLES[kk][1], lw=2, label=_tree_name(kk, labels))
                   for kk in keys]
        _figure(plt, panels, handles, "Label propagation: forest blocks solved exactly by message passing "
                "against flat blocks", out / "bcd_trees", lambda p: PROBLEM_NAMES[p])
    print("wrote", ", ".join(f"{out}/bcd_{n}.svg/png" for n in ("rules", "updates", "nonneg", "trees")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
