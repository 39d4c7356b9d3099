"""Progress bars for long loops, one policy for the whole library.

``enabled=None`` (the default everywhere) shows a bar and lets tqdm's own ``TQDM_*``
environment variables decide otherwise: the book build sets ``TQDM_DISABLE=1`` so bars are not
printed into the rendered pages, while a user running the same code in a terminal or in
JupyterLab sees them. ``True`` / ``False`` force the choice.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from tqdm import tqdm

T = TypeVar("T")
R = TypeVar("R")


def progress_bar(iterable: Iterable[T], *, enabled: bool | None = None, **kwargs: Any) -> tqdm:
    """``tqdm(iterable, **kwargs)``, off when ``enabled`` is False or, for ``None``, when
    ``TQDM_DISABLE`` is set now (tqdm itself reads it only once, at import)."""
    if enabled is None:
        enabled = os.environ.get("TQDM_DISABLE", "").lower() in ("", "0", "false")
    return tqdm(iterable, disable=not enabled, **kwargs)


def map_with_progress(
    function: Callable[[T], R], jobs: Sequence[T], workers: int, desc: str, unit: str
) -> list[R]:
    """``[function(job) for job in jobs]`` in order, over ``workers`` spawned processes when
    more than one, with one progress bar (the synthetic renderers' loop)."""
    results: list[R] = []
    with tqdm(total=len(jobs), desc=desc, unit=unit, mininterval=1.0) as bar:
        if workers == 1:
            for job in jobs:
                results.append(function(job))
                bar.update()
        else:
            with multiprocessing.get_context("spawn").Pool(workers) as pool:
                for result in pool.imap(function, jobs, chunksize=1):
                    results.append(result)
                    bar.update()
    return results
