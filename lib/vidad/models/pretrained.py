"""Where pretrained weights come from: the kinds of source, never a particular model.

Each model family declares its checkpoints next to its registration, as timm keeps
``default_cfgs`` beside ``@register_model`` and pytorchvideo keeps checkpoint paths beside its hub
builders::

    @register_model("r2plus1d_18", ..., pretrained={
        "kinetics400": TorchvisionWeights(R2Plus1D_18_Weights.KINETICS400_V1, head="fc")})

and :func:`vidad.models.create_model` asks the declared source to :meth:`~WeightsSource.
check_available` (before a build that can take seconds) and then to :meth:`~WeightsSource.load`
into the built model. This module holds only the generic kinds of source (torchvision, the
pytorchvideo model zoo, the Hugging Face hub), their caches and the one offline error.

The book's machines are often offline; a download attempt there hangs on a socket timeout. So:
the cache path is checked first; a download is attempted only when ``VIDAD_ALLOW_DOWNLOAD=1`` is
set; otherwise one :class:`PretrainedWeightsUnavailable` says what to fetch, from where and where to
put it. Cache locations follow the libraries: ``$TORCH_HOME/hub/checkpoints`` (torch hub, default
``~/.cache/torch``) and ``$HF_HUB_CACHE`` / ``$HF_HOME/hub`` (default ``~/.cache/huggingface``).
"""

from __future__ import annotations

import os
import pickle
import re
import warnings
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

ALLOW_DOWNLOAD_ENV = "VIDAD_ALLOW_DOWNLOAD"
PYTORCHVIDEO_ROOT = "https://dl.fbaipublicfiles.com/pytorchvideo/model_zoo/kinetics"


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


def unavailable(what: str, url: str, where: Path) -> PretrainedWeightsUnavailable:
    """The one offline error: what is missing, where to download it and where to put it."""
    return PretrainedWeightsUnavailable(
        f"{what} weights are not in the local cache and downloading is disabled. "
        f"Download {url} and put it at {where} "
        f"(or set {ALLOW_DOWNLOAD_ENV}=1 on a machine with internet access)."
    )


def _one_line(error: BaseException, limit: int = 200) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def download_failed(
    what: str, url: str, where: Path, error: BaseException
) -> PretrainedWeightsUnavailable:
    """Downloading was allowed and was tried: say that it failed, and why."""
    return PretrainedWeightsUnavailable(
        f"{what} weights: downloading {url} failed ({_one_line(error)}). Download it on a "
        f"machine with internet access and put it at {where}."
    )


def unreadable_reason(path: Path, error: BaseException) -> str:
    """Why ``torch.load(path, weights_only=True)`` failed, in a few words on one line.

    torch's own messages run to several lines and advise loading with ``weights_only=False``
    (which runs arbitrary code from the file): never pass them on.
    """
    try:
        size = path.stat().st_size
    except OSError:
        size = None
    text = str(error)
    if size == 0:
        return "the file is empty"
    if isinstance(error, EOFError):
        return f"the file ends early after {size} bytes: it is truncated"
    if "PytorchStreamReader" in text or "zip archive" in text:
        return f"the file is truncated or corrupt: its zip archive of {size} bytes is incomplete"
    if isinstance(error, pickle.UnpicklingError):
        found = re.search(r"GLOBAL (\S+) was not an allowed global", text)
        if found:
            return f"it holds a Python object ({found.group(1)}), not only tensors and numbers"
        return "not a torch checkpoint: its bytes are not a pickle of tensors and numbers"
    if "weights_only" in text:
        return "torch cannot read it as a checkpoint of tensors and numbers"
    return _one_line(error)


def load_tensor_file(path: Path) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU, without torch's warning about a
    foreign pickle protocol (a file it cannot read raises, and the caller says why)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Detected pickle protocol", UserWarning)
        return torch.load(path, map_location="cpu", weights_only=True)


def corrupt_file(what: str, url: str, path: Path, reason: str) -> PretrainedWeightsUnavailable:
    """A cached weights file that exists but cannot be used."""
    how = "" if download_allowed() else f" (or set {ALLOW_DOWNLOAD_ENV}=1 to let vidad do it)"
    return PretrainedWeightsUnavailable(
        f"{what} weights at {path} are unreadable ({reason}); "
        f"delete it and download {url} again{how}."
    )


def hub_path(url: str) -> Path:
    """Where the torch hub cache keeps ``url``'s file."""
    return torch_hub_checkpoint_dir() / os.path.basename(url)


def fetch_torch_hub_checkpoint(url: str, what: str) -> dict[str, torch.Tensor]:
    """Load ``url``'s file from the torch hub cache, downloading only if allowed."""
    path = hub_path(url)
    if not path.is_file():
        if not download_allowed():
            raise unavailable(what, url, path)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # torch hub writes a temporary file and renames it: no half file is left
            torch.hub.download_url_to_file(url, str(path))
        except Exception as error:  # network errors come in many types
            raise download_failed(what, url, path, error) from error
    try:
        return load_tensor_file(path)
    except Exception as error:  # noqa: BLE001 - any failure to unpickle means the file is bad
        raise corrupt_file(what, url, path, unreadable_reason(path, error)) from error


def load_matching(module: nn.Module, state_dict: Mapping[str, torch.Tensor], head: str) -> None:
    """Strict load, but the classifier ``head.*`` is skipped if its shape differs (new labels)."""
    own = module.state_dict()
    if f"{head}.weight" not in state_dict:
        raise RuntimeError(f"checkpoint has no {head}.weight")
    if state_dict[f"{head}.weight"].shape != own[f"{head}.weight"].shape:
        state_dict = {k: v for k, v in state_dict.items() if not k.startswith(f"{head}.")}
        missing = set(module.load_state_dict(state_dict, strict=False).missing_keys)
        if missing != {f"{head}.weight", f"{head}.bias"}:
            raise RuntimeError(f"checkpoint does not match the model: missing {sorted(missing)}")
    else:
        module.load_state_dict(state_dict, strict=True)


class WeightsSource(ABC):
    """One checkpoint of one registered model: where it is cached and how it loads.

    ``model_name`` is the registered name, used only to say what is missing.
    """

    LIBRARY: ClassVar[str] = ""

    label: str | None  # what the error messages call the weights (default: the model name)

    def describe(self, model_name: str) -> str:
        return f"{self.LIBRARY} {self.label or model_name}"

    @abstractmethod
    def check_available(self, model_name: str) -> None:
        """Raise :class:`PretrainedWeightsUnavailable` now if :meth:`load` would fail offline."""

    @abstractmethod
    def load(self, model: nn.Module, model_name: str) -> None:
        """Load the weights into ``model`` (as built by ``create_model``) in place."""


class TorchHubFile(WeightsSource):
    """A checkpoint file cached under ``$TORCH_HOME/hub/checkpoints`` (torch hub's layout).

    ``attr`` names the submodule of the vidad model that holds the library's network, whose
    names the checkpoint uses; ``head`` its classifier (left at its init for a new label set).
    """

    head: str
    attr: str

    @property
    @abstractmethod
    def url(self) -> str: ...

    def state_dict(self, checkpoint: dict[str, Any]) -> Mapping[str, torch.Tensor]:
        return checkpoint

    def check_available(self, model_name: str) -> None:
        if download_allowed():
            return
        path = torch_hub_checkpoint_dir() / os.path.basename(self.url)
        if not path.is_file():
            raise unavailable(self.describe(model_name), self.url, path)

    def load(self, model: nn.Module, model_name: str) -> None:
        what = self.describe(model_name)
        checkpoint = fetch_torch_hub_checkpoint(self.url, what)
        try:
            load_matching(getattr(model, self.attr), self.state_dict(checkpoint), self.head)
        except (AttributeError, KeyError, RuntimeError, TypeError) as error:
            path = hub_path(self.url)
            raise PretrainedWeightsUnavailable(
                f"{path} does not hold the weights of {what} ({_one_line(error)}); "
                f"delete it and download {self.url} again."
            ) from error


@dataclass(frozen=True)
class TorchvisionWeights(TorchHubFile):
    """A torchvision ``WeightsEnum`` member (e.g. ``R2Plus1D_18_Weights.KINETICS400_V1``)."""

    weights: Any
    head: str = "fc"
    attr: str = "net"
    label: str | None = None

    LIBRARY: ClassVar[str] = "torchvision"

    @property
    def url(self) -> str:
        return self.weights.url


@dataclass(frozen=True)
class PytorchvideoWeights(TorchHubFile):
    """A file of the pytorchvideo model zoo (``root/file``); its state is under ``model_state``."""

    file: str
    head: str
    attr: str = "net"
    root: str = PYTORCHVIDEO_ROOT
    label: str | None = None

    LIBRARY: ClassVar[str] = "pytorchvideo"

    @property
    def url(self) -> str:
        return f"{self.root}/{self.file}"

    def state_dict(self, checkpoint: dict[str, Any]) -> Mapping[str, torch.Tensor]:
        return checkpoint.get("model_state", checkpoint)


@dataclass(frozen=True)
class HuggingFaceWeights(WeightsSource):
    """A Hugging Face hub repository loaded with ``model_class.from_pretrained`` (transformers)."""

    repo: str
    model_class: Any
    head: str = "classifier"
    attr: str = "hf"
    label: str | None = None

    LIBRARY: ClassVar[str] = "Hugging Face"

    @property
    def url(self) -> str:
        return f"https://huggingface.co/{self.repo}"

    def repo_dir(self) -> Path:
        return hf_hub_cache_dir() / ("models--" + self.repo.replace("/", "--"))

    def check_available(self, model_name: str) -> None:
        if download_allowed():
            return
        if not self.repo_dir().is_dir():
            raise unavailable(self.describe(model_name), self.url, self.repo_dir())

    def load(self, model: nn.Module, model_name: str) -> None:
        local_only = not download_allowed()
        self.check_available(model_name)
        what = self.describe(model_name)
        try:
            hf = self.model_class.from_pretrained(
                self.repo, cache_dir=str(hf_hub_cache_dir()), local_files_only=local_only
            )
        except Exception as error:  # noqa: BLE001 - network and file errors come in many types
            if not local_only:
                raise download_failed(what, self.url, self.repo_dir(), error) from error
            # check_available found the repository folder: what it holds is incomplete or bad
            raise corrupt_file(what, self.url, self.repo_dir(), _one_line(error)) from error
        load_matching(getattr(model, self.attr), hf.state_dict(), self.head)
