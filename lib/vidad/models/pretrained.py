"""Kinetics-400 weights for each family, from the local cache first and never waiting on a network.

The book's machines are often offline; a download attempt there hangs on a socket timeout. So:
the cache path is checked first; a download is attempted only when ``VIDAD_ALLOW_DOWNLOAD=1`` is
set; otherwise one :class:`PretrainedWeightsUnavailable` says what to fetch, from where and where to
put it. Cache locations follow the libraries: ``$TORCH_HOME/hub/checkpoints`` (torch hub, default
``~/.cache/torch``) and ``$HF_HUB_CACHE`` / ``$HF_HOME/hub`` (default ``~/.cache/huggingface``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

ALLOW_DOWNLOAD_ENV = "VIDAD_ALLOW_DOWNLOAD"
PYTORCHVIDEO_ROOT = "https://dl.fbaipublicfiles.com/pytorchvideo/model_zoo/kinetics"
HF_TIMESFORMER_K400 = "facebook/timesformer-base-finetuned-k400"


class PretrainedWeightsUnavailable(RuntimeError):
    """Weights are not cached locally and downloading is not allowed or not possible."""


def download_allowed() -> bool:
    return os.environ.get(ALLOW_DOWNLOAD_ENV, "") == "1"


def torch_hub_checkpoint_dir() -> Path:
    """Where torch hub keeps checkpoints, read from the environment at call time."""
    home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "torch"
    )
    return Path(home) / "hub" / "checkpoints"


def hf_hub_cache_dir() -> Path:
    """Where huggingface_hub keeps repositories, read from the environment at call time."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "huggingface"
    )
    return Path(home) / "hub"


def _unavailable(what: str, url: str, where: Path) -> PretrainedWeightsUnavailable:
    return PretrainedWeightsUnavailable(
        f"{what} weights are not in the local cache and downloading is disabled. "
        f"Download {url} and put it at {where} "
        f"(or set {ALLOW_DOWNLOAD_ENV}=1 on a machine with internet access)."
    )


def fetch_torch_hub_checkpoint(url: str, what: str) -> dict[str, torch.Tensor]:
    """Load ``url``'s file from the torch hub cache, downloading only if allowed."""
    path = torch_hub_checkpoint_dir() / os.path.basename(url)
    if not path.is_file():
        if not download_allowed():
            raise _unavailable(what, url, path)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            torch.hub.download_url_to_file(url, str(path))
        except Exception as error:  # network errors come in many types
            raise _unavailable(what, url, path) from error
    return torch.load(path, map_location="cpu", weights_only=True)


def load_matching(module: nn.Module, state_dict: Mapping[str, torch.Tensor], head: str) -> None:
    """Strict load, but the classifier ``head.*`` is skipped if its shape differs (new labels)."""
    own = module.state_dict()
    if state_dict[f"{head}.weight"].shape != own[f"{head}.weight"].shape:
        state_dict = {k: v for k, v in state_dict.items() if not k.startswith(f"{head}.")}
        missing = set(module.load_state_dict(state_dict, strict=False).missing_keys)
        if missing != {f"{head}.weight", f"{head}.bias"}:
            raise RuntimeError(f"checkpoint does not match the model: missing {sorted(missing)}")
    else:
        module.load_state_dict(state_dict, strict=True)


def _torchvision_url(name: str) -> str:
    from torchvision.models.video import R2Plus1D_18_Weights, R3D_18_Weights

    return {"r3d_18": R3D_18_Weights, "r2plus1d_18": R2Plus1D_18_Weights}[name].KINETICS400_V1.url


_PYTORCHVIDEO_FILES = {"slowfast_r50": "SLOWFAST_8x8_R50.pyth", "slow_r50": "SLOW_8x8_R50.pyth"}


def check_kinetics400_available(name: str) -> None:
    """Raise :class:`PretrainedWeightsUnavailable` before a (slow) model build if it would fail."""
    if download_allowed():
        return
    if name in ("r3d_18", "r2plus1d_18"):
        url, what = _torchvision_url(name), f"torchvision {name}"
    elif name in _PYTORCHVIDEO_FILES:
        url, what = f"{PYTORCHVIDEO_ROOT}/{_PYTORCHVIDEO_FILES[name]}", f"pytorchvideo {name}"
    elif name == "timesformer":
        repo_dir = _hf_repo_dir()
        if not repo_dir.is_dir():
            raise _unavailable(HF_WHAT, HF_URL, repo_dir)
        return
    else:
        raise ValueError(f"no Kinetics-400 weights for {name!r}")
    path = torch_hub_checkpoint_dir() / os.path.basename(url)
    if not path.is_file():
        raise _unavailable(what, url, path)


def load_kinetics400(name: str, model: nn.Module) -> None:
    """Load Kinetics-400 weights into a paper-size ``model`` built by ``create_model(name)``."""
    if name in ("r3d_18", "r2plus1d_18"):
        url = _torchvision_url(name)
        load_matching(model.net, fetch_torch_hub_checkpoint(url, f"torchvision {name}"), "fc")
    elif name in ("slowfast_r50", "slow_r50"):
        file = _PYTORCHVIDEO_FILES[name]
        checkpoint = fetch_torch_hub_checkpoint(
            f"{PYTORCHVIDEO_ROOT}/{file}", f"pytorchvideo {name}"
        )
        state = checkpoint.get("model_state", checkpoint)
        head = f"blocks.{len(model.net.blocks) - 1}.proj"
        load_matching(model.net, state, head)
    elif name == "timesformer":
        _load_timesformer(model)
    else:
        raise ValueError(f"no Kinetics-400 weights for {name!r}")


HF_WHAT = "Hugging Face TimeSformer"
HF_URL = f"https://huggingface.co/{HF_TIMESFORMER_K400}"


def _hf_repo_dir() -> Path:
    return hf_hub_cache_dir() / ("models--" + HF_TIMESFORMER_K400.replace("/", "--"))


def _load_timesformer(model: nn.Module) -> None:
    from transformers import TimesformerForVideoClassification

    cache, repo_dir = hf_hub_cache_dir(), _hf_repo_dir()
    local_only = not download_allowed()
    if local_only and not repo_dir.is_dir():
        raise _unavailable(HF_WHAT, HF_URL, repo_dir)
    try:
        hf = TimesformerForVideoClassification.from_pretrained(
            HF_TIMESFORMER_K400, cache_dir=str(cache), local_files_only=local_only
        )
    except OSError as error:
        raise _unavailable(HF_WHAT, HF_URL, repo_dir) from error
    load_matching(model.hf, hf.state_dict(), "classifier")
