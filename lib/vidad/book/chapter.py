"""What every chapter does the same way: name its profile, save figures, record metrics.

A chapter creates one :class:`Chapter` in its first cell. Figures go to
``build/<profile>/figures/<chapter>/`` and metrics to ``results/<profile>/<chapter>.json``,
both DVC outputs of the chapter's stage, so every number on a page can be traced to the run
that produced it.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt

from vidad.config import check_profile
from vidad.paths import Paths

PROFILE_MEANING = {
    "smoke": "CI profile: tiny clips and models so the whole book runs in minutes; "
    "its numbers only show that the code runs and are not meaningful",
    "cpu": "default profile: reduced clip sizes and models, meaningful results on a laptop CPU",
    "gpu": "GPU profile: paper-size models and clip resolutions on one GPU",
}


class Chapter:
    """Per-chapter output locations and the provenance banner shown at the top of each page."""

    def __init__(self, name: str, profile: str, root: str | Path = ".") -> None:
        self.name = name
        self.profile = check_profile(profile)
        self.root = Path(root)
        self.paths = Paths(self.profile, self.root)
        self.figure_dir = self.paths.figures(name)
        self.metrics_path = self.paths.metrics(name)
        self.figure_dir.mkdir(parents=True, exist_ok=True)
        self.metrics_path.parent.mkdir(parents=True, exist_ok=True)
        self._metrics: dict[str, Any] = {}

    def banner(self) -> str:
        """Markdown naming the profile and software that produced this page."""
        import torch

        device = "CUDA: " + torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
        return (
            f"**Built with the `{self.profile}` profile** ({PROFILE_MEANING[self.profile]}). "
            f"Python {platform.python_version()}, PyTorch {torch.__version__}, device {device}. "
            f"Re-run with `dvc repro` after setting `profile:` in `params.yaml`."
        )

    def savefig(self, fig: plt.Figure, stem: str) -> None:
        """Save ``fig`` as ``<figure_dir>/<stem>.png`` (the page shows the figure itself).

        Returns nothing so that a cell ending in ``chapter.savefig(...)`` prints no path.
        """
        fig.savefig(self.figure_dir / f"{stem}.png", dpi=110, bbox_inches="tight")

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        """Write an experiment's whole metrics dictionary (``Result.metrics()``) at once."""
        self._metrics = {}
        self.log_metrics(**metrics)

    def log_metrics(self, **values: Any) -> dict[str, Any]:
        """Merge ``values`` into this chapter's metrics file (written at once, sorted keys).

        The file is rewritten in full each call, so the JSON on disk always matches what the
        page shows even if the notebook stops half-way.
        """
        self._metrics.update(values)
        tmp = self.metrics_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self._metrics, indent=2, sort_keys=True, default=float) + "\n")
        tmp.replace(self.metrics_path)
        return dict(self._metrics)
