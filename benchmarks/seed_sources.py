"""Where does a tiny network's seed-to-seed spread come from: its initial weights or its data order?

Not a test, and not part of the book's hour. A seed in this book fixes two things at once: the
initial weights (``torch.manual_seed`` before the model is built) and the training stream (the
random scale + crop and flip generator, and the batch order). Single-seed validation accuracy of
the ``cpu`` presets moves by up to 0.2 between seeds (``benchmarks/recipes.py``: R(2+1)D
pretraining 0.45 to 0.68 over seeds 0-2), which is why every claim of the book resamples seeds.
This script crosses ``--init-seeds`` with ``--data-seeds`` for one candidate of
``benchmarks/recipes.py``, trains each cell exactly as the stage trains (train split, epoch chosen
on val; the test split is never read), and splits the spread of the best validation accuracy
into the part the initial weights explain, the part the data stream explains, and the rest::

    python benchmarks/seed_sources.py --stage r2plus1d --candidate r2plus1d_tiny_32 \\
        --init-seeds 0 1 2 --data-seeds 0 1 2 --json benchmarks/results/seed-sources-cpu-2core.json

Run it alone on the machine: it times nothing, but it shares two cores with nothing else.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
from recipes import CANDIDATES, matmul_gflops, read_report, run_candidate, write_report

from vidad.paths import Paths


def decompose(table: np.ndarray) -> dict[str, float]:
    """Two-way decomposition of a (init seeds x data seeds) table of accuracies, one per cell.

    Sums of squares of the row (init) means, the column (data) means and the residual (their
    interaction, which one run per cell cannot tell from noise), each as a share of the total,
    plus the spread (max - min) of the row and column means.
    """
    grand = table.mean()
    rows, cols = table.mean(axis=1), table.mean(axis=0)
    ss_init = table.shape[1] * float(np.sum((rows - grand) ** 2))
    ss_data = table.shape[0] * float(np.sum((cols - grand) ** 2))
    ss_total = float(np.sum((table - grand) ** 2))
    ss_rest = ss_total - ss_init - ss_data
    share = (lambda ss: ss / ss_total) if ss_total > 0 else (lambda ss: float("nan"))
    return {
        "mean": float(grand),
        "init_share": share(ss_init),
        "data_share": share(ss_data),
        "residual_share": share(ss_rest),
        "init_means_range": float(rows.max() - rows.min()),
        "data_means_range": float(cols.max() - cols.min()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--stage", default="r2plus1d", help="params.yaml section of the recipe")
    parser.add_argument("--candidate", choices=sorted(CANDIDATES), required=True)
    parser.add_argument("--init-seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--data-seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args(argv)
    paths = Paths(args.profile, ".")
    gflops = matmul_gflops()
    runs: list[dict[str, Any]] = []
    table = np.zeros((len(args.init_seeds), len(args.data_seeds)))
    for i, init_seed in enumerate(args.init_seeds):
        for j, data_seed in enumerate(args.data_seeds):
            row = run_candidate(
                args.candidate, args.stage, args.profile, paths, gflops, data_seed, init_seed
            )
            table[i, j] = row["best_val_accuracy"]
            runs.append(row)
            print(
                f"init {init_seed} data {data_seed}: val {table[i, j]:.3f} "
                f"(epoch {row['best_epoch']}, {row['train_minutes']:.1f} min)",
                flush=True,
            )
    summary = decompose(table)
    report = read_report(args.json, "seed_sources", {"experiments": []})
    key = (args.candidate, args.stage)
    report["experiments"] = [
        e for e in report["experiments"] if (e["candidate"], e["stage"]) != key
    ] + [
        {
            "candidate": args.candidate,
            "stage": args.stage,
            "init_seeds": args.init_seeds,
            "data_seeds": args.data_seeds,
            "best_val_accuracy": table.tolist(),  # rows: init seeds, columns: data seeds
            "summary": summary,
            "runs": runs,
        }
    ]
    write_report(args.json, report)
    print(
        f"{args.candidate} [{args.stage}]: mean val {summary['mean']:.3f}; share of the spread "
        f"explained by the initial weights {summary['init_share']:.0%}, by the data stream "
        f"{summary['data_share']:.0%}, rest {summary['residual_share']:.0%}; range of the "
        f"init means {summary['init_means_range']:.3f}, of the data means "
        f"{summary['data_means_range']:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
