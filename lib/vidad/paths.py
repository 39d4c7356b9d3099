"""Every location a profile reads or writes, in one object.

The notebooks, the experiments and the generator of ``dvc.yaml`` all take their paths from a
:class:`Paths`, so a stage's declared outputs cannot drift from where its code writes::

    build/<profile>/synth/<dataset>/      generated datasets (manifest.csv, videos/)
    build/<profile>/cache/                decode-once clip caches
    build/<profile>/pretrained/<model>/   stage ``pretrain``'s backbones
    build/<profile>/notebooks/<ch>.ipynb  executed chapters
    build/<profile>/figures/<ch>/         their figures
    build/<profile>/runs/<ch>/            resumable training runs
    results/<profile>/<ch>.json           metrics (committed for ``cpu``)

``Paths.template()`` gives the same layout with ``${profile}`` in place of the profile name,
which is how ``dvc.yaml`` spells it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vidad.config import check_profile

TEMPLATE_PROFILE = "${profile}"


@dataclass(frozen=True)
class Paths:
    """Output and input locations of one profile under a project ``root``."""

    profile: str
    root: Path = Path(".")

    def __post_init__(self) -> None:
        if self.profile != TEMPLATE_PROFILE:
            check_profile(self.profile)
        object.__setattr__(self, "root", Path(self.root))

    @classmethod
    def template(cls) -> Paths:
        """The layout with ``${profile}`` unexpanded and relative to the project root."""
        return cls(TEMPLATE_PROFILE, Path("."))

    @property
    def build(self) -> Path:
        """Generated data, executed notebooks, figures, runs: everything re-creatable."""
        return self.root / "build" / self.profile

    @property
    def results(self) -> Path:
        """Metrics JSON files (the ``cpu`` ones are committed)."""
        return self.root / "results" / self.profile

    def synth(self, dataset: str) -> Path:
        """Folder of one generated dataset (``synth-actions``, ``synth-ped``...)."""
        return self.build / "synth" / dataset

    @property
    def cache(self) -> Path:
        """Decode-once clip caches, shared by every chapter of the profile."""
        return self.build / "cache"

    @property
    def pretrained(self) -> Path:
        """Stage ``pretrain``'s backbones, one folder per backbone."""
        return self.build / "pretrained"

    def pretrained_backbone(self, backbone: str) -> Path:
        return self.pretrained / backbone

    @property
    def frame_model(self) -> Path:
        """Stage ``frame_vit``'s ViT trained on single frames (TimeSformer's spatial init)."""
        return self.build / "frame_model"

    @property
    def embeddings(self) -> Path:
        """Cached clip embeddings of the pretrained backbones (chapter 6)."""
        return self.build / "embeddings"

    @property
    def detectors(self) -> Path:
        """Saved anomaly detectors, one per backbone, for ``python -m vidad score``."""
        return self.build / "detectors"

    @property
    def long_video(self) -> Path:
        """Chapter 6's long synthetic videos and their score files."""
        return self.build / "long_video"

    @property
    def notebooks(self) -> Path:
        return self.build / "notebooks"

    def notebook(self, chapter: str) -> Path:
        """The executed notebook of a chapter (``02_c3d`` -> ``.../notebooks/02_c3d.ipynb``)."""
        return self.notebooks / f"{chapter}.ipynb"

    def figures(self, chapter: str) -> Path:
        return self.build / "figures" / chapter

    def runs(self, chapter: str) -> Path:
        """Resumable training runs of a chapter (kept between ``dvc repro`` runs)."""
        return self.build / "runs" / chapter

    def metrics(self, chapter: str) -> Path:
        return self.results / f"{chapter}.json"
