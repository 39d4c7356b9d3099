"""``fit``: the one training loop every chapter uses (classifiers, autoencoders, fine-tuning).

It owns what is easy to get subtly wrong per chapter: exact resume (model, optimizer,
scheduler, global RNG states and every generator that shapes a batch - the loaders' and, through
``generators=``, e.g. a random-crop transform's - in ``latest.pt``), best-model tracking, the v2
"unfreeze the last N backbone tensors at epoch k" event, bf16 autocast and channels_last_3d on
CUDA, skipped ``None`` batches, DDP under torchrun, and dvclive logging.

It fails early and in one line where a run could only end badly: a monitored value that is NaN
(:class:`NaNMonitorError`, at that epoch, not when a caller finds no ``best.pt`` at the end), a
damaged ``latest.pt`` (:class:`~vidad.train.checkpoint.CheckpointError`, with the way out).
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim.lr_scheduler import LambdaLR

from vidad.progress import progress_bar
from vidad.train.checkpoint import (
    BEST,
    LATEST,
    CheckpointError,
    load_checkpoint,
    remove_stale_temps,
    save_checkpoint,
)
from vidad.train.config import TrainConfig
from vidad.train.distributed import all_reduce_sum, barrier, dist_info
from vidad.train.freeze import set_trainable, trainable_names, unfreeze_last
from vidad.train.seeding import get_rng_state, seed_everything, set_rng_state

LossFn = Callable[[Any, Any], torch.Tensor]
MetricsFn = Callable[[Any, Any], dict[str, float]]

#: What :func:`fit` reads back from ``latest.pt`` to resume (``best.pt`` holds the same).
RESUME_KEYS: tuple[str, ...] = (
    "model",
    "optimizer",
    "scheduler",
    "epoch",
    "best_metric",
    "best_epoch",
    "history",
    "skipped_batches",
    "unfrozen",
    "trainable",
    "rng",
)


_END = object()  # the end of a loader's batches (``None`` is a batch: one that failed to decode)


class NaNMonitorError(RuntimeError):
    """The monitored value is NaN at some epoch: no epoch could be selected on it."""


@dataclass
class TrainResult:
    """What :func:`fit` produced: one record per epoch (resumed epochs included)."""

    history: list[dict[str, float]]
    best_metric: float | None
    best_epoch: int | None
    skipped_batches: int
    latest_path: Path
    best_path: Path
    start_epoch: int = 1
    trainable: list[str] = field(default_factory=list)
    #: wall seconds of each epoch trained by this call (training batches only) and the part of
    #: them spent waiting for the loader; kept out of ``history`` so that histories (and every
    #: number derived from them) stay identical from run to run
    epoch_seconds: list[float] = field(default_factory=list)
    data_seconds: list[float] = field(default_factory=list)


def default_batch_to_inputs(batch: Any) -> tuple[Any, Any]:
    """``(batch["video"], batch["label"])`` for ClipDataset dicts, ``(x, y)`` for tuples."""
    if isinstance(batch, dict):
        return batch["video"], batch["label"]
    if isinstance(batch, Sequence) and len(batch) == 2:
        return batch[0], batch[1]
    raise TypeError(f"cannot split a batch of type {type(batch).__name__}; pass batch_to_inputs")


def to_device(obj: Any, device: torch.device, channels_last_3d: bool = False) -> Any:
    """Move tensors (also inside lists / tuples / dicts, e.g. SlowFast pathways) to ``device``.

    With ``channels_last_3d``, 5-D tensors get that memory format (faster cuDNN 3-D convs).
    """
    if isinstance(obj, torch.Tensor):
        obj = obj.to(device, non_blocking=True)
        if channels_last_3d and obj.dim() == 5:
            obj = obj.contiguous(memory_format=torch.channels_last_3d)
        return obj
    if isinstance(obj, dict):
        return {k: to_device(v, device, channels_last_3d) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(to_device(v, device, channels_last_3d) for v in obj)
    return obj


def wants_channels_last_3d(model: nn.Module, device: torch.device) -> bool:
    """Whether ``model`` runs faster with channels_last_3d tensors on ``device``.

    On CUDA always (cuDNN's 3-D convs). On CPU only for models whose class says so with
    ``channels_last_3d_on_cpu = True``: oneDNN's channels-last 3-D convs beat the default
    layout for some families and lose for others, so the choice is per family, from
    ``benchmarks/training.py``, never a guess (and fixed, so a re-run takes the same path).
    """
    if device.type == "cuda":
        return True
    return device.type == "cpu" and bool(getattr(model, "channels_last_3d_on_cpu", False))


def prepare_for_device(
    model: nn.Module, device: torch.device, channels_last_3d: bool | None = None
) -> bool:
    """Move ``model`` to ``device`` and, where channels_last_3d is wanted (``None``: where it
    is the faster layout, :func:`wants_channels_last_3d`; ``True``: always; ``False``: never),
    give its 5-D parameters that memory format (``Module.to`` would fail on 4-D ones).

    Returns whether it did, i.e. whether 5-D inputs should be moved with
    ``to_device(..., channels_last_3d=True)`` too. Training (:func:`fit`) and inference
    (:func:`vidad.anomaly.embeddings.embed_clips`) set a model up through this one function.
    """
    model.to(device)
    if channels_last_3d is None:
        channels_last = wants_channels_last_3d(model, device)
    else:
        channels_last = channels_last_3d
    if channels_last:
        for param in model.parameters():
            if param.dim() == 5:
                param.data = param.data.contiguous(memory_format=torch.channels_last_3d)
    return channels_last


def autocast_context(
    device: torch.device, enabled: bool | None = None
) -> contextlib.AbstractContextManager:
    """bf16 autocast on ``device`` when ``enabled`` (default: on CUDA only), else nothing.

    What :func:`fit` runs every forward pass under (``TrainConfig.amp``), and what inference
    uses so that a model is evaluated at the precision it was trained at.
    """
    if enabled is None:
        enabled = device.type == "cuda"
    if enabled:
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _lr_factor(config: TrainConfig) -> Callable[[int], float]:
    """Multiplier of the base lr after ``epoch`` scheduler steps: warmup, then the schedule."""
    warm, total = config.warmup_epochs, config.epochs

    def factor(epoch: int) -> float:
        if epoch < warm:
            return (epoch + 1) / warm
        e = epoch - warm
        if config.schedule == "step":
            return config.gamma ** (e // config.step_size)
        if config.schedule == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * min(e, total - warm) / (total - warm)))
        return 1.0

    return factor


def build_optimizer(groups: list[dict[str, Any]], config: TrainConfig) -> torch.optim.Optimizer:
    """The configured optimizer over ``groups`` (each with its own ``lr``)."""
    wd = config.weight_decay
    fused = config.fused_optimizer or None  # None: torch's default (foreach) implementation
    if config.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=config.lr, weight_decay=wd, fused=fused)
    if config.optimizer == "adam":
        return torch.optim.Adam(groups, lr=config.lr, weight_decay=wd, fused=fused)
    return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum, weight_decay=wd)


def _param_groups(model: nn.Module, config: TrainConfig) -> tuple[list[dict[str, Any]], list]:
    """Group 0: parameters trainable now. Group 1 (v2 only): the frozen tensors among the last
    ``unfreeze_last_n`` of ``unfreeze_module``, registered up front at ``unfreeze_lr``.

    Registering them from the start (they have no grad while frozen, so the optimizer skips
    them) keeps one optimizer and one scheduler whose state dicts resume before or after the
    unfreeze event alike. Returns the groups and, per group, its lr lambda.
    """
    base = [p for p in model.parameters() if p.requires_grad]
    late: list[nn.Parameter] = []
    if config.unfreeze_at_epoch is not None:
        target = model.get_submodule(config.unfreeze_module)
        params = list(target.parameters())
        n = config.unfreeze_last_n
        if n > len(params):
            raise ValueError(
                f"unfreeze_last_n={n} but {config.unfreeze_module or 'the model'!r} has only "
                f"{len(params)} parameter tensors"
            )
        late = [p for p in params[len(params) - n :] if not p.requires_grad]
    groups, lambdas = [], []
    if base:
        groups.append({"params": base, "lr": config.lr})
        lambdas.append(_lr_factor(config))
    if late:
        groups.append({"params": late, "lr": config.unfreeze_lr or config.lr})
        lambdas.append(lambda _epoch: 1.0)
    if not groups:
        raise ValueError("the model has no trainable parameters and nothing to unfreeze")
    return groups, lambdas


def _improved(value: float, best: float | None, mode: str) -> bool:
    if math.isnan(value):
        return False
    if best is None:
        return True
    return value < best if mode == "min" else value > best


def _loader_generator(loader: Iterable | None) -> torch.Generator | None:
    gen = getattr(loader, "generator", None) if loader is not None else None
    return gen if isinstance(gen, torch.Generator) else None


def _batch_generators(
    train_loader: Iterable, val_loader: Iterable | None, extra: Mapping[str, torch.Generator]
) -> dict[str, torch.Generator]:
    """Every generator that shapes a batch, by the name its state is saved under.

    The loaders' own (``loader.train``, ``loader.val``: they seed each epoch's iterator) and
    the caller's ``extra`` ones (e.g. ``crop``: the random scale + crop of the training clips).
    """
    found: dict[str, torch.Generator] = {}
    for split, loader in (("train", train_loader), ("val", val_loader)):
        gen = _loader_generator(loader)
        if gen is not None:
            found[f"loader.{split}"] = gen
    for name, gen in extra.items():
        if not isinstance(gen, torch.Generator):
            kind = type(gen).__name__
            raise TypeError(f"generators[{name!r}] is a {kind}, not a torch.Generator")
        if name in found:
            raise ValueError(f"generators[{name!r}]: the name is taken by a loader's generator")
        found[name] = gen
    return found


def _generator_states(ckpt: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Saved generator states by name (also from checkpoints that predate ``generators``)."""
    if "generators" in ckpt:
        return {k: v for k, v in ckpt["generators"].items() if v is not None}
    legacy = ckpt.get("loader_generators", {})
    return {f"loader.{k}": v for k, v in legacy.items() if v is not None}


def _resume_advice(latest_path: Path, best_path: Path) -> str:
    """The way out of a ``latest.pt`` that cannot be resumed from (one sentence)."""
    folder = str(latest_path.parent)
    advice = f"delete the run folder {folder!r} to train this run afresh"
    try:
        best = load_checkpoint(best_path, keys=RESUME_KEYS)
    except (CheckpointError, FileNotFoundError):
        return advice
    return (
        f"{advice}, or copy best.pt over latest.pt there to resume exactly from epoch "
        f"{best['epoch']} (best.pt holds the full training state of that epoch)"
    )


def _nan_cause(
    monitor: str, record: dict[str, float], train_batches: int, val_batches: int | None
) -> str:
    """The likely reason a monitored value is NaN, and what to do (for one error line)."""
    from_val = monitor != "train_loss"
    if from_val and val_batches == 0:
        return (
            "no validation batch was evaluated: the validation set is empty or every one of its "
            "clips failed to decode (see the dataset's decode report)"
        )
    if train_batches == 0:
        return "every training batch was skipped (None): every training clip failed to decode?"
    if math.isnan(record["train_loss"]) or math.isnan(record.get("val_loss", 0.0)):
        return "the loss is NaN: training diverged or the inputs hold NaN (lower lr, set grad_clip)"
    return f"metrics_fn returned NaN for {monitor!r} (undefined on these validation clips?)"


def _set_epoch(loader: Iterable | None, epoch: int) -> None:
    sampler = getattr(loader, "sampler", None)
    if hasattr(sampler, "set_epoch"):
        sampler.set_epoch(epoch)


def fit(
    model: nn.Module,
    train_loader: Iterable,
    val_loader: Iterable | None,
    loss_fn: LossFn,
    config: TrainConfig,
    out_dir: str | Path,
    metrics_fn: MetricsFn | None = None,
    monitor: str = "val_loss",
    mode: str = "min",
    resume: bool = True,
    live: bool = True,
    device: torch.device | str | None = None,
    batch_to_inputs: Callable[[Any], tuple[Any, Any]] = default_batch_to_inputs,
    generators: Mapping[str, torch.Generator] | None = None,
) -> TrainResult:
    """Train ``model`` for ``config.epochs`` epochs, resuming from ``out_dir/latest.pt``.

    ``loss_fn(outputs, targets)`` returns a scalar per batch; epoch losses are the mean over
    batches (over all ranks under DDP). ``metrics_fn(outputs, targets)`` gets the whole
    validation set's outputs and targets concatenated (on CPU) and returns extra named numbers.
    ``monitor`` (``"val_loss"``, ``"train_loss"`` or a metric name) decides ``best.pt`` in
    ``mode`` ``"min"`` or ``"max"``. Batches that are ``None`` (every clip failed to decode) are
    skipped and counted. A resumed run's weights and losses equal an uninterrupted run's when
    the loaders' order depends only on the seed and epoch (see :func:`make_loader`) and every
    other generator that shapes a batch is passed in ``generators`` (by name, e.g.
    ``{"crop": g}`` for the generator of the training clips' random crops): their states are
    saved in ``latest.pt`` with the loaders' and the global RNGs', and restored on resume.
    Random transforms must run in the main process (``num_workers=0``, as the book's loaders
    do) for their generator's state to be the one saved.
    Under DDP a ``None`` batch on one rank only would stall the others; exact-resume is
    guaranteed for a single process.

    A NaN monitored value stops the run at that epoch with :class:`NaNMonitorError` (its likely
    cause in the message) before it is checkpointed, so a returned run always has a
    ``best.pt``. A ``latest.pt`` that cannot be resumed from raises
    :class:`~vidad.train.checkpoint.CheckpointError` saying how to start afresh or resume from
    ``best.pt``; nothing is deleted automatically.
    """
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    info = dist_info()
    if device is None:
        device = f"cuda:{info.local_rank}" if torch.cuda.is_available() else "cpu"
    device = torch.device(device)
    on_cuda = device.type == "cuda"
    use_amp = config.amp == "bf16" or (config.amp == "auto" and on_cuda)
    out_dir = Path(out_dir)
    latest_path, best_path = out_dir / LATEST, out_dir / BEST
    if info.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(out_dir)  # of checkpoint writes a killed process never finished

    seed_everything(config.seed)
    channels_last = prepare_for_device(model, device, config.channels_last_3d)
    groups, lambdas = _param_groups(model, config)
    optimizer = build_optimizer(groups, config)
    scheduler = LambdaLR(optimizer, lambdas)

    history: list[dict[str, float]] = []
    best_metric: float | None = None
    best_epoch: int | None = None
    skipped = 0
    start_epoch = 1
    unfrozen = False
    epoch_seconds: list[float] = []
    data_seconds: list[float] = []
    batch_gens = _batch_generators(train_loader, val_loader, generators or {})
    if resume and latest_path.is_file():
        try:
            ckpt = load_checkpoint(latest_path, map_location="cpu", keys=RESUME_KEYS)
        except CheckpointError as err:
            raise CheckpointError(
                f"cannot resume: {err}; {_resume_advice(latest_path, best_path)}"
            ) from None
        try:
            model.load_state_dict(ckpt["model"])
            set_trainable(model, ckpt["trainable"])
            optimizer.load_state_dict(ckpt["optimizer"])
            scheduler.load_state_dict(ckpt["scheduler"])
            set_rng_state(ckpt["rng"])
            saved = _generator_states(ckpt)
            for name, gen in batch_gens.items():
                if name in saved:
                    gen.set_state(saved[name])
            history = list(ckpt["history"])
            best_metric, best_epoch = ckpt["best_metric"], ckpt["best_epoch"]
            skipped = int(ckpt["skipped_batches"])
            unfrozen = bool(ckpt["unfrozen"])
            start_epoch = int(ckpt["epoch"]) + 1
        except (RuntimeError, ValueError, KeyError, TypeError, AttributeError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise CheckpointError(
                f"cannot resume from {str(latest_path)!r}: it does not match this run "
                f"({first}); {_resume_advice(latest_path, best_path)}"
            ) from None
        lost, unused = sorted(set(batch_gens) - set(saved)), sorted(set(saved) - set(batch_gens))
        if lost and start_epoch <= config.epochs:
            warnings.warn(
                f"{str(latest_path)!r} holds no state for generator(s) {', '.join(lost)} "
                "(written by an older vidad): the resumed epochs will not repeat an "
                "uninterrupted run exactly; delete the run folder to retrain it exactly",
                stacklevel=2,
            )
        if unused and start_epoch <= config.epochs:
            warnings.warn(
                f"{str(latest_path)!r} holds the state of generator(s) {', '.join(unused)} "
                "that this call does not pass: pass them as fit(generators=...) for the resumed "
                "epochs to repeat an uninterrupted run exactly",
                stacklevel=2,
            )

    def wrap(m: nn.Module) -> nn.Module:
        if info.world_size == 1:
            return m
        ids = [device.index] if on_cuda else None
        return DistributedDataParallel(m, device_ids=ids)

    net = wrap(model)
    logger = _open_live(out_dir, config, resumed=start_epoch > 1) if live and info.is_main else None
    autocast = functools.partial(autocast_context, device, use_amp)

    try:
        for epoch in range(start_epoch, config.epochs + 1):
            if (
                config.unfreeze_at_epoch is not None
                and not unfrozen
                and epoch >= config.unfreeze_at_epoch
            ):
                unfreeze_last(model.get_submodule(config.unfreeze_module), config.unfreeze_last_n)
                unfrozen = True
                net = wrap(model)  # DDP registers gradients only for params trainable at wrap
            _set_epoch(train_loader, epoch)
            _set_epoch(val_loader, epoch)
            lr = optimizer.param_groups[0]["lr"]

            net.train()
            loss_sum = torch.zeros((), dtype=torch.float64, device=device)
            n_batches = 0
            bar = progress_bar(
                train_loader,
                enabled=None if info.is_main else False,
                desc=f"epoch {epoch}/{config.epochs}",
                leave=False,
            )
            epoch_start = time.perf_counter()
            waited = 0.0
            batches = iter(bar)
            while True:
                fetch_start = time.perf_counter()
                batch = next(batches, _END)
                waited += time.perf_counter() - fetch_start
                if batch is _END:
                    break
                if batch is None:
                    skipped += 1
                    continue
                inputs, targets = batch_to_inputs(batch)
                inputs = to_device(inputs, device, channels_last)
                targets = to_device(targets, device)
                optimizer.zero_grad(set_to_none=True)
                with autocast():
                    loss = loss_fn(net(inputs), targets)
                loss.backward()
                if config.grad_clip is not None:
                    params = [p for p in model.parameters() if p.grad is not None]
                    torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
                optimizer.step()
                loss_sum += loss.detach().double()
                n_batches += 1
                if n_batches % config.log_every == 0:
                    bar.set_postfix(loss=f"{loss_sum.item() / n_batches:.4g}")
            bar.close()
            epoch_seconds.append(time.perf_counter() - epoch_start)
            data_seconds.append(waited)
            total, count = all_reduce_sum([loss_sum.item(), float(n_batches)], device)
            record: dict[str, float] = {
                "epoch": epoch,
                "lr": lr,
                "train_loss": total / count if count else math.nan,
            }
            val_batches = None
            if val_loader is not None:
                values, val_batches = _evaluate(
                    net,
                    val_loader,
                    loss_fn,
                    metrics_fn,
                    device,
                    channels_last,
                    autocast,
                    batch_to_inputs,
                )
                record.update(values)
            scheduler.step()
            record["skipped_batches"] = skipped
            history.append(record)

            if val_batches == 0 and monitor != "train_loss":  # metrics_fn had nothing to see
                record.setdefault(monitor, math.nan)
            if monitor not in record:
                raise ValueError(f"monitor {monitor!r} not among the logged values {list(record)}")
            if math.isnan(float(record[monitor])):  # before the checkpoint: a resume re-checks
                cause = _nan_cause(monitor, record, int(count), val_batches)
                raise NaNMonitorError(
                    f"{monitor} is NaN at epoch {epoch} of the run in {str(out_dir)!r}, so no "
                    f"epoch can be selected on it; stopped here: {cause}"
                )
            improved = _improved(float(record[monitor]), best_metric, mode)
            if improved:
                best_metric, best_epoch = float(record[monitor]), epoch
            if info.is_main:
                state = {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "epoch": epoch,
                    "best_metric": best_metric,
                    "best_epoch": best_epoch,
                    "monitor": monitor,
                    "mode": mode,
                    "history": history,
                    "skipped_batches": skipped,
                    "unfrozen": unfrozen,
                    "trainable": trainable_names(model),
                    "rng": get_rng_state(),
                    "generators": {name: gen.get_state() for name, gen in batch_gens.items()},
                    "config": config.to_dict(),
                }
                # best first: a crash between the two writes then just repeats this epoch
                if improved:
                    save_checkpoint(best_path, state)
                save_checkpoint(latest_path, state)
                if logger is not None:
                    logger.step = epoch - 1
                    for key, value in record.items():
                        if key != "epoch":
                            logger.log_metric(key, value)
                    logger.next_step()
            barrier()
    finally:
        if logger is not None:
            logger.end()

    if info.is_main and not best_path.is_file():  # e.g. a finished run of an older vidad
        why = (
            f"{monitor} was never a number"
            if best_epoch is None
            else f"best.pt of epoch {best_epoch} was removed"
        )
        raise CheckpointError(
            f"the run in {str(out_dir)!r} has no best.pt ({why}); delete the folder to train "
            "it again"
        )
    return TrainResult(
        history=history,
        best_metric=best_metric,
        best_epoch=best_epoch,
        skipped_batches=skipped,
        latest_path=latest_path,
        best_path=best_path,
        start_epoch=start_epoch,
        trainable=trainable_names(model),
        epoch_seconds=epoch_seconds,
        data_seconds=data_seconds,
    )


@torch.no_grad()
def _evaluate(
    net: nn.Module,
    loader: Iterable,
    loss_fn: LossFn,
    metrics_fn: MetricsFn | None,
    device: torch.device,
    channels_last: bool,
    autocast: Callable[[], Any],
    batch_to_inputs: Callable[[Any], tuple[Any, Any]],
) -> tuple[dict[str, float], int]:
    """Validation loss (mean over batches and ranks) and, with ``metrics_fn``, extra metrics;
    with the number of batches evaluated (over all ranks)."""
    net.eval()
    loss_sum, n_batches = 0.0, 0
    outputs, targets = [], []
    for batch in loader:
        if batch is None:
            continue
        x, y = batch_to_inputs(batch)
        x = to_device(x, device, channels_last)
        y = to_device(y, device)
        with autocast():
            out = net(x)
            loss = loss_fn(out, y)
        loss_sum += float(loss)
        n_batches += 1
        if metrics_fn is not None:
            outputs.append(to_device(out, torch.device("cpu")))
            targets.append(to_device(y, torch.device("cpu")))
    total, count = all_reduce_sum([loss_sum, float(n_batches)], device)
    result = {"val_loss": total / count if count else math.nan}
    if metrics_fn is not None and count:  # no outputs at all: nothing to compute metrics on
        outputs, targets = _gather(outputs), _gather(targets)
        out_cat = torch.cat(outputs).float() if outputs else torch.empty(0)
        tgt_cat = torch.cat(targets) if targets else torch.empty(0)
        result.update({k: float(v) for k, v in metrics_fn(out_cat, tgt_cat).items()})
    return result, int(count)


def _gather(items: list[Any]) -> list[Any]:
    """All ranks' lists concatenated in rank order (the list itself without DDP)."""
    info = dist_info()
    if info.world_size == 1:
        return items
    parts: list[Any] = [None] * info.world_size
    torch.distributed.all_gather_object(parts, items)
    return [x for part in parts for x in part]


def _open_live(out_dir: Path, config: TrainConfig, resumed: bool) -> Any:
    """dvclive writer under ``out_dir/dvclive`` that never touches DVC experiments or dvc.yaml.

    ``save_dvc_exp=False`` and ``dvcyaml=None``: the pipeline's own dvc.yaml declares the
    outputs; a resumed run appends to the existing metric files.
    """
    from dvclive import Live

    logger = Live(dir=str(out_dir / "dvclive"), resume=resumed, save_dvc_exp=False, dvcyaml=None)
    logger.log_params({k: v for k, v in config.to_dict().items() if v is not None})
    return logger
