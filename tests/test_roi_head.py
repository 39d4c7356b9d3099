"""SlowFast + RoI detection head on the tiny preset with 8-frame 32x32 clips."""

from __future__ import annotations

import pytest
import torch

from vidad.models import count_params, create_model, pack_pathways
from vidad.models.roi_head import (  # importing registers "slowfast_detector"
    RoIHeadConfig,
    SlowFastDetector,
    temporal_pool,
)

NUM_CLASSES = 6
# two boxes in clip 0, one in clip 1; pixels of the 32x32 input crop
BOXES = torch.tensor([[0, 0, 0, 16, 16], [0, 8, 4, 30, 31], [1, 2, 2, 20, 28]], dtype=torch.float)


def _clip(seed: int = 0) -> torch.Tensor:
    return torch.randn(2, 3, 8, 32, 32, generator=torch.Generator().manual_seed(seed))


def _detector(**options: object) -> SlowFastDetector:
    torch.manual_seed(0)
    return create_model("slowfast_detector", "tiny", num_classes=NUM_CLASSES, **options)


def test_output_shape_and_pathway_input() -> None:
    model = _detector().eval()
    clip = _clip()
    logits = model(clip, BOXES)
    assert logits.shape == (3, NUM_CLASSES)
    # the packed [slow, fast] input gives the same logits as the raw clip
    packed = pack_pathways(clip, model.input_spec.alpha)
    assert torch.allclose(model(packed, BOXES), logits)
    # boxes of one clip do not depend on the other clip's content
    other = clip.clone()
    other[1] = torch.randn(3, 8, 32, 32)
    assert torch.allclose(model(other, BOXES)[:2], logits[:2], atol=1e-6)


def test_dilated_res5_keeps_weights_and_halves_the_stride() -> None:
    dilated = _detector()
    strided = _detector(dilate_res5=False)
    clip = _clip()
    assert dilated.feature_map(clip).shape == (2, dilated.embed_dim, 2, 2)  # stride 16
    assert strided.feature_map(clip).shape == (2, strided.embed_dim, 1, 1)  # stride 32
    # same parameter shapes as the classification backbone: its checkpoint still loads
    backbone = create_model("slowfast_r50", size="tiny", num_classes=NUM_CLASSES)
    state = {k[len("net.blocks.") :]: v for k, v in backbone.state_dict().items()}
    body = {k: v for k, v in state.items() if not k.startswith(("5.", "6."))}
    missing, unexpected = dilated.blocks.load_state_dict(body, strict=True)
    assert not missing and not unexpected
    assert count_params(dilated) == count_params(strided)


def test_gradients_reach_the_backbone() -> None:
    model = _detector().train()
    logits = model(_clip(), BOXES)
    torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.ones_like(logits)).backward()
    stem = model.blocks[0].multipathway_blocks[0].conv.weight
    fast_stem = model.blocks[0].multipathway_blocks[1].conv.weight
    assert stem.grad is not None and stem.grad.abs().sum() > 0
    assert fast_stem.grad is not None and fast_stem.grad.abs().sum() > 0
    assert model.proj.weight.grad.abs().sum() > 0


def test_logit_batchnorm_standardizes_logits_in_train_mode() -> None:
    plain = _detector(dropout=0.0).train()
    normed = _detector(dropout=0.0, logit_batchnorm=True).train()
    normed.load_state_dict(plain.state_dict(), strict=False)  # same backbone and projection
    clip = _clip()
    raw = plain(clip, BOXES)
    out = normed(clip, BOXES)
    assert raw.std(0).max() < 0.5  # the 0.01-std init keeps plain logits small
    assert torch.allclose(out.mean(0), torch.zeros(NUM_CLASSES), atol=1e-5)
    assert torch.allclose(out.var(0, unbiased=False), torch.ones(NUM_CLASSES), atol=1e-2)
    centred = raw - raw.mean(0)
    assert torch.allclose(out, centred / centred.std(0, unbiased=False), atol=1e-2)
    normed.eval()  # running statistics moved towards the batch's
    assert normed.logit_bn.running_mean.abs().sum() > 0


def test_boxes_outside_the_frame_do_not_crash() -> None:
    model = _detector().eval()
    boxes = torch.tensor(
        [
            [0, -20, -20, 10, 10],  # partly outside
            [0, -5, -5, 100, 100],  # larger than the frame
            [1, 40, 40, 60, 60],  # wholly outside
            [1, 10, 10, 10, 10],  # zero area
        ],
        dtype=torch.float,
    )
    logits = model(_clip(), boxes)
    assert logits.shape == (4, NUM_CLASSES) and torch.isfinite(logits).all()
    assert model(_clip(), torch.zeros(0, 5)).shape == (0, NUM_CLASSES)


def test_temporal_pool_modes() -> None:
    maps = [torch.randn(2, 4, 2, 3, 3), torch.randn(2, 1, 8, 3, 3)]
    avg, mx = temporal_pool(maps, "avg"), temporal_pool(maps, "max")
    assert avg.shape == mx.shape == (2, 5, 3, 3)
    assert (mx >= avg).all()
    assert torch.allclose(avg[:, 4], maps[1].mean(2)[:, 0])
    model = _detector(temporal_pool="max").eval()
    assert model(_clip(), BOXES).shape == (3, NUM_CLASSES)


def test_invalid_arguments() -> None:
    model = _detector().eval()
    with pytest.raises(ValueError, match=r"\(K, 5\)"):
        model(_clip(), BOXES[:, 1:])
    with pytest.raises(ValueError, match="batch indices"):
        model(_clip(), torch.tensor([[2.0, 0, 0, 8, 8]]))
    with pytest.raises(ValueError, match="unknown option 'roi_size'"):
        create_model("slowfast_detector", "tiny", roi_size=5)
    with pytest.raises(ValueError, match="unknown size"):
        create_model("slowfast_detector", "huge")
    with pytest.raises(ValueError, match="invalid logit_batchnorm"):
        create_model("slowfast_detector", "tiny", logit_batchnorm=1.5)
    with pytest.raises(ValueError, match="unknown option 'num_frames'"):  # a backbone option
        create_model("slowfast_detector", "tiny", num_frames=8)
    with pytest.raises(ValueError, match="two-pathway"):
        backbone = create_model("slowfast_r50", size="tiny", pathways="slow")
        SlowFastDetector(backbone, RoIHeadConfig())
    with pytest.raises(ValueError, match="temporal_pool"):
        _detector(temporal_pool="median")


def test_backbone_options_reach_the_backbone() -> None:
    model = _detector(backbone_options={"num_frames": 8, "crop_size": 32})
    assert (model.input_spec.num_frames, model.input_spec.crop_size) == (8, 32)
    with pytest.raises(ValueError, match="unknown option 'depth' for slowfast_r50"):
        _detector(backbone_options={"depth": 3})


def test_kinetics_weights_are_declared_and_checked_by_the_backbone() -> None:
    # the detector passes them to its backbone, whose checkpoint fits the paper size only
    with pytest.raises(ValueError, match="needs size='paper'.*slowfast_r50"):
        create_model("slowfast_detector", "tiny", pretrained="kinetics400")
    with pytest.raises(ValueError, match="unknown pretrained 'imagenet'"):
        create_model("slowfast_detector", "tiny", pretrained="imagenet")
