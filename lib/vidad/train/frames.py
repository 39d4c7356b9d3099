"""Single frames of a clip dataset, as one-frame clips: the data a frame model trains on.

A frame model (a ViT over one frame) must see frames exactly as the video model it will
initialise sees them, or its spatial weights start in the wrong input domain. So frames are
cut *after* the video model's whole clip pipeline (subsampling, mean-frame subtraction,
random scale and crop): a frame here is one time step of a clip the video model could have
been given.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset


class ClipFrames(Dataset):
    """``frames_per_clip`` frames of every clip of ``clips`` (items ``(T, C, H, W)``).

    With a ``generator`` (training) each item is a uniformly random frame of its clip, drawn
    anew every epoch; without one (validation) the frames are evenly spaced, the same every
    time. Items keep the clip dataset's keys; ``video`` becomes ``(1, C, H, W)``.
    """

    def __init__(
        self, clips: Dataset, frames_per_clip: int, generator: torch.Generator | None = None
    ) -> None:
        if frames_per_clip < 1:
            raise ValueError(f"frames_per_clip must be >= 1, got {frames_per_clip}")
        self.clips = clips
        self.frames_per_clip = int(frames_per_clip)
        self.generator = generator

    def __len__(self) -> int:
        return len(self.clips) * self.frames_per_clip  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> dict[str, Any]:
        clip_index, slot = divmod(int(index), self.frames_per_clip)
        item = self.clips[clip_index]
        video = item["video"]
        if video.ndim != 4:
            raise ValueError(f"expected (T, C, H, W) clips, got shape {tuple(video.shape)}")
        steps = video.shape[0]
        if self.generator is not None:
            t = int(torch.randint(steps, (1,), generator=self.generator))
        else:
            t = min(int((slot + 0.5) * steps / self.frames_per_clip), steps - 1)
        return {**item, "video": video[t : t + 1]}
