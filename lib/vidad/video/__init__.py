"""Video input: decoding (PyAV), clip transforms, manifests and clip datasets."""

from vidad.video.cache import CachedClipDataset, ClipCacheSpec, build_clip_cache
from vidad.video.dataset import ClipDataset, collate_skip_none
from vidad.video.decode import (
    DecodeReport,
    VideoDecodeError,
    VideoInfo,
    probe_video,
    read_clip,
    read_frames,
    scan_videos,
    uniform_indices,
)
from vidad.video.manifest import (
    ManifestError,
    read_manifest,
    resolve_clip_path,
    select_split,
    write_manifest,
)
from vidad.video.transforms import KINETICS_MEAN, KINETICS_STD, make_clip_transform

__all__ = [
    "KINETICS_MEAN",
    "KINETICS_STD",
    "CachedClipDataset",
    "ClipCacheSpec",
    "ClipDataset",
    "DecodeReport",
    "ManifestError",
    "VideoDecodeError",
    "VideoInfo",
    "build_clip_cache",
    "collate_skip_none",
    "make_clip_transform",
    "probe_video",
    "read_clip",
    "read_frames",
    "read_manifest",
    "resolve_clip_path",
    "scan_videos",
    "select_split",
    "uniform_indices",
    "write_manifest",
]
