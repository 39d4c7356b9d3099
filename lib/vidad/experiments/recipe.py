"""The training recipe chapters 2-5 and stage ``pretrain`` share (``params.yaml`` ``recipe:``).

Kept apart from the chapters' tables and figures (:mod:`vidad.experiments.recognition`) so that
editing a plot does not re-run the backbones' pretraining, whose stage imports only this.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from vidad.config import SectionConfig
from vidad.train.recognition import ClassSet, RecognitionSetup

#: Width / depth presets every architecture registers (``create_model(..., size=...)``).
SizePreset = Literal["paper", "small", "tiny"]


@dataclasses.dataclass(frozen=True)
class RecipeConfig(SectionConfig):
    """The training recipe chapters 2-5 and stage ``pretrain`` share (``params.yaml`` ``recipe:``).

    Each chapter's ``Config`` subclasses it and adds its own keys; :meth:`setup` hands the
    recipe to the training layer as a :class:`~vidad.train.recognition.RecognitionSetup`, whose
    checks (crop inside the cache, positive sizes) run when the config is built.
    """

    seed: int
    classes: ClassSet
    size: SizePreset
    num_frames: int
    crop_size: int
    cache_size: int
    motion: bool
    mirror: bool
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    warmup_epochs: int

    def validate(self) -> None:
        if self.warmup_epochs < 0:
            raise ValueError(f"warmup_epochs must be >= 0, got {self.warmup_epochs}")
        self.setup()

    def setup(self) -> RecognitionSetup:
        """The recipe as the training layer takes it (every variant of a chapter shares it)."""
        return RecognitionSetup(**{k: getattr(self, k) for k in RECIPE_KEYS})


#: The recipe's keys: the fields of :class:`RecognitionSetup`, which :class:`RecipeConfig` declares.
RECIPE_KEYS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(RecognitionSetup))


@dataclasses.dataclass(frozen=True)
class SeededRecipeConfig(RecipeConfig):
    """The recipe of a chapter that makes claims: every variant is trained ``num_seeds`` times,
    with seeds ``seed, seed + 1, ...``.

    One seed is one draw of the training noise (initial weights, data order, crops); a verdict
    that a second machine or a second seed could flip is not a result, so the chapters' CIs
    resample seeds as well as test clips (:func:`vidad.stats.seed_item_bootstrap`).
    """

    num_seeds: int

    def validate(self) -> None:
        if self.num_seeds < 1:
            raise ValueError(f"num_seeds must be >= 1, got {self.num_seeds}")
        super().validate()

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(range(self.seed, self.seed + self.num_seeds))

    def seed_setups(self) -> list[RecognitionSetup]:
        """One training setup per seed (everything else equal)."""
        base = self.setup()
        return [dataclasses.replace(base, seed=s) for s in self.seeds]
