"""The frame model (a one-frame ViT) and TimeSformer's init from it, as the paper's code does."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import Dataset

from vidad.models import create_model
from vidad.models.timesformer import init_from_frame_model
from vidad.train.frames import ClipFrames

OPTIONS = {"crop_size": 16, "patch_size": 8}


def frame_model(**extra):
    torch.manual_seed(1)
    return create_model(
        "timesformer",
        size="tiny",
        num_classes=25,
        attention_type="space_only",
        num_frames=1,
        **{**OPTIONS, **extra},
    )


def video_model(attention: str):
    torch.manual_seed(2)
    return create_model(
        "timesformer",
        size="tiny",
        num_classes=10,
        attention_type=attention,
        num_frames=4,
        **OPTIONS,
    )


def test_divided_model_copies_spatial_weights_and_starts_temporal_as_the_paper():
    frames = frame_model().state_dict()
    model = video_model("divided_space_time")
    head_before = model.hf.classifier.weight.clone()
    init_from_frame_model(model, frames)
    state = model.state_dict()
    prefix = "hf.timesformer.encoder.layer."
    for i in range(4):
        qkv = f"{prefix}{i}.attention.attention.qkv.weight"
        assert torch.equal(state[qkv], frames[qkv])
        temporal_qkv = f"{prefix}{i}.temporal_attention.attention.qkv.weight"
        assert torch.equal(state[temporal_qkv], frames[qkv])  # temporal_attn <- attn
        norm = f"{prefix}{i}.layernorm_before.weight"
        assert torch.equal(state[f"{prefix}{i}.temporal_layernorm.weight"], frames[norm])
        dense = state[f"{prefix}{i}.temporal_dense.weight"]
        assert (dense.abs().sum() == 0) == (i > 0)  # temporal_fc zeroed in blocks 1..
    assert state["hf.timesformer.embeddings.time_embeddings"].abs().sum() == 0
    assert torch.equal(
        state["hf.timesformer.embeddings.position_embeddings"],
        frames["hf.timesformer.embeddings.position_embeddings"],
    )
    assert torch.equal(model.hf.classifier.weight, head_before)  # other classes: fresh head


def test_space_only_video_model_of_a_still_clip_embeds_like_the_frame_model():
    vit = frame_model().eval()
    model = video_model("space_only").eval()
    init_from_frame_model(model, vit.state_dict())
    frame = torch.randn(2, 1, 3, 16, 16)
    with torch.no_grad():
        still = model.forward_features(frame.expand(-1, 4, -1, -1, -1))
        single = vit.forward_features(frame)
    torch.testing.assert_close(still, single, rtol=1e-4, atol=1e-5)


def test_a_frame_model_of_another_patch_grid_is_refused():
    other = frame_model(patch_size=4).state_dict()
    with pytest.raises(ValueError, match="position_embeddings|patch"):
        init_from_frame_model(video_model("divided_space_time"), other)


def test_a_frame_model_missing_layers_is_refused():
    frames = {k: v for k, v in frame_model().state_dict().items() if ".layer.3." not in k}
    with pytest.raises(ValueError, match="sets no value"):
        init_from_frame_model(video_model("joint_space_time"), frames)


class Clips(Dataset):
    def __len__(self) -> int:
        return 3

    def __getitem__(self, index: int) -> dict:
        t = torch.arange(6, dtype=torch.float32).view(6, 1, 1, 1) + 10 * index
        return {"video": t.expand(6, 3, 2, 2), "label": index}


def test_clip_frames_cut_single_frames_of_each_clip():
    evenly = ClipFrames(Clips(), frames_per_clip=2)
    assert len(evenly) == 6
    values = [float(evenly[i]["video"][0, 0, 0, 0]) for i in range(6)]
    assert values == [1.0, 4.0, 11.0, 14.0, 21.0, 24.0]  # evenly spaced, clip by clip
    assert evenly[3]["label"] == 1 and evenly[3]["video"].shape == (1, 3, 2, 2)
    g = torch.Generator().manual_seed(0)
    drawn = ClipFrames(Clips(), frames_per_clip=50, generator=g)
    seen = {float(drawn[i]["video"][0, 0, 0, 0]) for i in range(50)}
    assert seen == {0.0, 1.0, 2.0, 3.0, 4.0, 5.0}  # every frame of clip 0 comes up
    with pytest.raises(ValueError):
        ClipFrames(Clips(), frames_per_clip=0)


def test_conv_stem_keeps_the_token_grid_and_the_module_name():
    torch.manual_seed(0)
    linear = create_model("timesformer", size="tiny", num_classes=3, num_frames=2, **OPTIONS)
    conv = create_model(
        "timesformer", size="tiny", num_classes=3, num_frames=2, patch_stem="conv", **OPTIONS
    )
    clip = torch.randn(2, 2, 3, 16, 16)
    assert conv(clip).shape == linear(clip).shape == (2, 3)
    stem = conv.hf.timesformer.embeddings.patch_embeddings.projection
    assert isinstance(stem, torch.nn.Sequential)  # same name, so a frame model maps onto it
    width = conv.hf.config.hidden_size
    assert stem(torch.randn(1, 3, 16, 16)).shape == (1, width, 2, 2)
    with pytest.raises(ValueError, match="patch_stem"):
        create_model("timesformer", size="tiny", patch_stem="resnet")


def test_conv_stem_needs_a_power_of_two_patch():
    from vidad.models.timesformer import conv_stem

    with pytest.raises(ValueError, match="power-of-two"):
        conv_stem(6, 192)
