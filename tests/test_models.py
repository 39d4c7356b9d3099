"""vidad.models: registry, published parameter / MAC counts, shapes, C3D variants, weights."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
import torch
from torch import nn
from torchvision.models.video import R2Plus1D_18_Weights, R3D_18_Weights, r2plus1d_18
from torchvision.models.video.resnet import BasicBlock, Conv2Plus1D

from vidad.models import (
    HuggingFaceWeights,
    PretrainedWeightsUnavailable,
    PytorchvideoWeights,
    TorchvisionWeights,
    WeightsSource,
    count_macs,
    count_params,
    create_model,
    list_models,
    load_c3d_state_dict,
    r2plus1d_midplanes,
    register_model,
    registry,
)
from vidad.models.c3d import CONV_NAMES

LAZY_MODELS = ["memae2d_frames", "memae3d", "slowfast_detector"]
ALL_MODELS = ["c3d", "r2plus1d_18", "r3d_18", "slow_r50", "slowfast_r50", "timesformer"]


# ----------------------------------------------------------------------------- registry


def test_list_models():
    # importing vidad.models registers the backbones; the MemAEs and the detector are listed
    # too but their modules load only when one is built (see LAZY_PROVIDERS)
    code = (
        "import sys\n"
        "from vidad.models import list_models\n"
        "print(list_models())\n"
        "print('vidad.models.roi_head' in sys.modules, 'vidad.models.memae' in sys.modules)\n"
    )
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    names, loaded = fresh.stdout.strip().splitlines()
    assert names == repr(sorted([*ALL_MODELS, *LAZY_MODELS]))
    assert loaded == "False False"
    assert list_models() == sorted(list_models())


def test_a_lazily_registered_model_builds_without_importing_its_module_first():
    code = (
        "import sys\n"
        "from vidad.models import create_model\n"
        "model = create_model('memae3d', 'tiny', use_memory=False)\n"
        "print(type(model).__name__, 'vidad.models.memae' in sys.modules)\n"
    )
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert fresh.stdout.strip().endswith("True")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "c4d"}, "valid models: c3d, "),
        ({"name": "c3d", "size": "huge"}, "valid sizes: paper, small, tiny"),
        (
            {"name": "c3d", "depth": 3},
            "valid options: batch_norm, crop_size, dropout, head, num_frames, temporal_depth",
        ),
        ({"name": "c3d", "temporal_depth": 4}, "valid values: 1, 3, 5, 7, 'increasing'"),
        ({"name": "timesformer", "attention_type": "axial"}, "'space_only'"),
        ({"name": "c3d", "pretrained": "kinetics400"}, "none (random init only)"),
        ({"name": "r3d_18", "size": "tiny", "pretrained": "kinetics400"}, "size='paper'"),
    ],
)
def test_create_model_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        create_model(**kwargs)


# ----------------------------------------------------------------------------- paper sizes

# name, extra kwargs, exact count we measure, published count: C3D (Tran et al., ICCV 2015),
# R(2+1)D / R3D (Tran et al., CVPR 2018), SlowFast / Slow (Feichtenhofer et al., ICCV 2019),
# TimeSformer (Bertasius et al., ICML 2021)
PAPER_PARAMS = [
    ("c3d", {"num_classes": 101}, 78_409_573, 78.4e6),
    ("r2plus1d_18", {}, 31_505_325, 31.5e6),
    ("r3d_18", {}, 33_371_472, 33.4e6),
    ("slowfast_r50", {}, 34_566_488, 34.57e6),
    ("slow_r50", {}, 32_454_096, 32.4e6),
    # HF TimeSformer-Base + 400-way classifier; published 121.4M (divided), 85.9M (others)
    ("timesformer", {}, 121_566_352, 121.4e6),
]


@pytest.mark.parametrize(("name", "kwargs", "exact", "published"), PAPER_PARAMS)
def test_paper_param_counts(name, kwargs, exact, published):
    n = count_params(create_model(name, **kwargs))
    assert n == exact
    tolerance = {"slowfast_r50": 0.05e6, "timesformer": 0.2e6}.get(name, 0.1e6)
    assert abs(n - published) < tolerance


@pytest.mark.parametrize("name", ["c3d", "r2plus1d_18", "r3d_18", "slowfast_r50", "timesformer"])
def test_paper_embed_dims(name):
    expected = {"c3d": 4096, "r2plus1d_18": 512, "r3d_18": 512, "slowfast_r50": 2304}
    assert create_model(name).embed_dim == expected.get(name, 768)


def test_c3d_paper_macs_and_flatten():
    model = create_model("c3d", num_classes=101)
    assert model.flatten_dim == 8192
    macs = count_macs(model, torch.zeros(1, 3, 16, 112, 112))
    assert macs == 38_547_378_176
    assert abs(macs / 38.5e9 - 1) < 0.02


def test_r2plus1d_matches_torchvision_exactly():
    ours = create_model("r2plus1d_18").net.state_dict()
    reference = r2plus1d_18().state_dict()
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in reference.items()}


def test_midplanes_formula_matches_torchvision():
    net = r2plus1d_18()
    blocks = [m for m in net.modules() if isinstance(m, BasicBlock)]
    for block in blocks:
        conv1 = block.conv1[0]
        assert isinstance(conv1, Conv2Plus1D)
        in_planes, planes = conv1[0].in_channels, conv1[3].out_channels
        assert conv1[0].out_channels == r2plus1d_midplanes(in_planes, planes)
        # torchvision reuses conv1's M_i for conv2, i.e. formula(N_{i-1}, N_i) not (N_i, N_i)
        assert block.conv2[0][0].out_channels == r2plus1d_midplanes(in_planes, planes)
    assert r2plus1d_midplanes(64, 64) == 144
    assert r2plus1d_midplanes(64, 128) == 230
    # parameter match with the full 3-D conv it replaces (to within the floor)
    n_in, n_out = 128, 256
    m = r2plus1d_midplanes(n_in, n_out)
    assert abs((9 * n_in * m + 3 * m * n_out) - 27 * n_in * n_out) < 9 * n_in + 3 * n_out


# ----------------------------------------------------------------------------- tiny forwards


@pytest.mark.parametrize("name", ALL_MODELS)
def test_tiny_forward_shapes(name):
    torch.manual_seed(0)
    model = create_model(name, size="tiny", num_classes=7).eval()
    clip = model.input_spec.example(batch_size=2)
    with torch.no_grad():
        features = model.forward_features(clip)
        logits = model(clip)
    assert features.shape == (2, model.embed_dim)
    assert logits.shape == (2, 7)
    assert torch.allclose(model.forward_head(features), logits, atol=1e-5)


def test_input_specs():
    sf = create_model("slowfast_r50", size="tiny").input_spec
    assert sf.alpha == 4 and sf.layout == "CTHW"
    slow, fast = sf.example(1)
    assert slow.shape[2] * 4 == fast.shape[2] == sf.num_frames
    assert create_model("timesformer", size="tiny").input_spec.layout == "TCHW"
    with pytest.raises(AttributeError):
        sf.alpha = 8  # frozen


def test_c3d_eight_frame_input():
    model = create_model("c3d", size="tiny", num_frames=8, head="flatten").eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 8, 64, 64)).shape == (1, 400)
    with pytest.raises(ValueError, match="built for 8x64"):
        model(torch.zeros(1, 3, 16, 112, 112))


def test_c3d_avgpool_head_takes_any_crop_size():
    # tiny pools by default; its temporal pools are laid out for num_frames at build time
    model = create_model("c3d", size="tiny", num_classes=5, num_frames=8).eval()
    assert model.config.head == "avgpool"
    with torch.no_grad():
        assert model(torch.zeros(2, 3, 8, 32, 32)).shape == (2, 5)
        assert model(torch.zeros(1, 3, 8, 48, 48)).shape == (1, 5)
    assert create_model("c3d", size="paper").config.head == "flatten"


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"lateral": "time_strided_sampling"},
        {"lateral": "time_to_channel"},
        {"lateral": "none"},
        {"pathways": "slow"},
        {"pathways": "fast"},
        {"alpha": 2},
        {"channel_reduction": 4},
    ],
)
def test_slowfast_ablation_variants_run(options):
    model = create_model(
        "slowfast_r50", size="tiny", num_classes=3, num_frames=8, crop_size=32, **options
    ).eval()
    x = model.input_spec.example(2)
    with torch.no_grad():
        assert model(x).shape == (2, 3)
        assert model.forward_features(x).shape == (2, model.embed_dim)
    if "pathways" in options:
        assert isinstance(x, torch.Tensor)  # one pathway: a plain clip
        expected = 8 // 4 if options["pathways"] == "slow" else 8
        assert x.shape[2] == model.input_spec.num_frames == expected


def test_slowfast_laterals_change_only_the_slow_input_width():
    def params(**kw):
        return count_params(create_model("slowfast_r50", size="tiny", num_classes=3, **kw))

    conv, sample, t2c, none = (
        params(),
        params(lateral="time_strided_sampling"),
        params(lateral="time_to_channel"),
        params(lateral="none"),
    )
    assert none < sample < conv < t2c  # laterals add beta*C, 2*beta*C, alpha*beta*C channels
    with pytest.raises(ValueError, match="needs two pathways"):
        create_model("slowfast_r50", size="tiny", pathways="slow", lateral="none")


@pytest.mark.parametrize("pathways", ["slowfast", "slow", "fast"])
def test_slowfast_without_stem_pool_keeps_twice_the_resolution_and_the_same_weights(pathways):
    def build(**kw):
        return create_model(
            "slowfast_r50", size="tiny", num_classes=3, num_frames=8, crop_size=32,
            pathways=pathways, **kw,
        ).eval()  # fmt: skip

    pooled, unpooled = build(), build(stem_pool=False)
    assert unpooled.state_dict().keys() == pooled.state_dict().keys()
    unpooled.load_state_dict(pooled.state_dict())  # the pool has no weights: same shapes
    x = pooled.input_spec.example(1)

    def res5(model):
        maps = [*x] if isinstance(x, list) else [x]
        for block in model.net.blocks[:-2]:  # the stem and res2-res5: not the pool and head
            maps = block(maps)
        return maps

    with torch.no_grad():
        maps = [res5(pooled), res5(unpooled)]
    for a, b in zip(maps[0], maps[1], strict=True):  # each pathway's res5
        assert b.shape[-2:] == (2 * a.shape[-2], 2 * a.shape[-1])
    with pytest.raises(ValueError, match="stem_pool"):
        build(stem_pool="no")


def test_time_to_channel_keeps_each_slow_step_s_frames_together():
    from vidad.models.slowfast import TimeStridedSampling, TimeToChannel

    fast = torch.arange(8.0).view(1, 1, 8, 1, 1).expand(1, 2, 8, 1, 1)  # value = frame index
    slow = torch.zeros(1, 4, 2, 1, 1)
    fused, same = TimeToChannel(alpha=4)([slow, fast])
    assert same is fast and fused.shape == (1, 4 + 2 * 4, 2, 1, 1)
    # slow step 0 gets fast frames 0..3, step 1 frames 4..7, for each fast channel
    assert fused[0, 4:, 0, 0, 0].tolist() == [0, 1, 2, 3, 0, 1, 2, 3]
    assert fused[0, 4:, 1, 0, 0].tolist() == [4, 5, 6, 7, 4, 5, 6, 7]
    sampled, _ = TimeStridedSampling(alpha=4)([slow, fast])
    assert sampled[0, 4:, :, 0, 0].tolist() == [[0, 4], [0, 4]]


def test_timesformer_space_only_returns_one_embedding_per_clip():
    model = create_model(
        "timesformer",
        size="tiny",
        num_classes=4,
        attention_type="space_only",
        num_frames=4,
        crop_size=32,
        patch_size=8,
    ).eval()
    x = model.input_spec.example(3)
    assert x.shape == (3, 4, 3, 32, 32)
    with torch.no_grad():
        assert model.forward_features(x).shape == (3, model.embed_dim)
        assert model(x).shape == (3, 4)
        # averaging per-frame CLS tokens: reversing the frames changes nothing
        assert torch.allclose(model(x), model(x.flip(1)), atol=1e-5)


def test_c3d_temporal_depth_variants():
    counts = {}
    for depth in (1, 3, 5, 7, "increasing", "decreasing"):
        model = create_model("c3d", size="tiny", num_classes=5, temporal_depth=depth).eval()
        assert model.conv3a.kernel_size[0] == (5 if isinstance(depth, str) else depth)
        with torch.no_grad():
            assert model(torch.zeros(1, 3, 16, 64, 64)).shape == (1, 5)
        counts[depth] = count_params(model)
    assert counts[1] < counts[3] < counts[5] < counts[7]
    assert counts["increasing"] != counts["decreasing"]
    assert len(set(counts.values())) == 6


def test_c3d_state_dict_mapping():
    # released C3D weights come from the original network, which has no batch norm
    source = create_model("c3d", size="tiny", num_classes=5, batch_norm=False)
    # an nn.Sequential-style dict with gaps for ReLU / pool / dropout layers
    legacy = {}
    for i, name in enumerate(CONV_NAMES):
        for param in ("weight", "bias"):
            legacy[f"features.{3 * i}.{param}"] = source.state_dict()[f"{name}.{param}"]
    for i, name in enumerate(("fc6", "fc7", "fc8")):
        for param in ("weight", "bias"):
            legacy[f"classifier.{3 * i}.{param}"] = source.state_dict()[f"{name}.{param}"]
    target = create_model("c3d", size="tiny", num_classes=5, batch_norm=False)
    assert load_c3d_state_dict(target, legacy) == ([], [])
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value), key
    # another label set: fc8 stays at its init, the rest loads
    other = create_model("c3d", size="tiny", num_classes=9, batch_norm=False)
    missing, _ = load_c3d_state_dict(other, legacy)
    assert sorted(missing) == ["fc8.bias", "fc8.weight"]
    assert torch.equal(other.fc7.weight, source.fc7.weight)


# ----------------------------------------------------------------------------- pretrained


@pytest.fixture
def offline_caches(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("VIDAD_ALLOW_DOWNLOAD", raising=False)
    return tmp_path


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("r2plus1d_18", "r2plus1d_18-91a641e6.pth"),
        ("slowfast_r50", "SLOWFAST_8x8_R50.pyth"),
        ("timesformer", "huggingface.co/facebook/timesformer-base-finetuned-k400"),
    ],
)
def test_pretrained_offline_error(offline_caches, name, source):
    with pytest.raises(PretrainedWeightsUnavailable) as info:
        create_model(name, pretrained="kinetics400")
    message = str(info.value)
    assert source in message
    assert str(offline_caches) in message  # where to put it
    assert "VIDAD_ALLOW_DOWNLOAD=1" in message


def test_pretrained_torchvision_from_cache(offline_caches):
    reference = r2plus1d_18()
    url = R2Plus1D_18_Weights.KINETICS400_V1.url
    path = offline_caches / "torch" / "hub" / "checkpoints" / url.rsplit("/", 1)[1]
    path.parent.mkdir(parents=True)
    torch.save(reference.state_dict(), path)
    model = create_model("r2plus1d_18", pretrained="kinetics400")
    for key, value in reference.state_dict().items():
        assert torch.equal(model.net.state_dict()[key], value), key
    # new label set: backbone loaded, fresh head
    model = create_model("r2plus1d_18", num_classes=10, pretrained="kinetics400")
    assert torch.equal(
        model.net.layer4[1].conv2[0][0].weight, reference.layer4[1].conv2[0][0].weight
    )
    assert isinstance(model.net.fc, nn.Linear) and model.net.fc.out_features == 10


@pytest.mark.parametrize(
    ("attention_type", "exact"), [("space_only", 86_106_256), ("joint_space_time", 86_112_400)]
)
def test_timesformer_attention_variant_params(attention_type, exact):
    """Published 85.9M for both; HF's count is 0.2M above (its 400-way head is 0.3M)."""
    n = count_params(create_model("timesformer", attention_type=attention_type))
    assert n == exact
    assert abs(n - 85.9e6) < 0.25e6


@pytest.mark.parametrize(
    ("name", "options", "published_gmacs"),
    [
        ("r2plus1d_18", {}, 40.5),  # torchvision model card, 16x112^2
        ("slowfast_r50", {"crop_size": 256}, 65.7),  # SlowFast 8x8 R50 at 256^2
        ("timesformer", {}, 196.0),  # TimeSformer-Base, one 8x224^2 view (0.59 TFLOPs / 3)
    ],
)
def test_paper_multiply_adds_match_published(name, options, published_gmacs):
    model = create_model(name, size="paper", **options).eval()
    gmacs = count_macs(model, model.input_spec.example(1)) / 1e9
    assert abs(gmacs / published_gmacs - 1) < 0.01, gmacs


# ----------------------------------------------------------------------------- weight sources


@pytest.mark.parametrize(
    ("name", "kind", "url"),
    [
        ("r3d_18", TorchvisionWeights, R3D_18_Weights.KINETICS400_V1.url),
        ("r2plus1d_18", TorchvisionWeights, R2Plus1D_18_Weights.KINETICS400_V1.url),
        ("slowfast_r50", PytorchvideoWeights, "kinetics/SLOWFAST_8x8_R50.pyth"),
        ("slow_r50", PytorchvideoWeights, "kinetics/SLOW_8x8_R50.pyth"),
        ("timesformer", HuggingFaceWeights, "facebook/timesformer-base-finetuned-k400"),
    ],
)
def test_each_family_declares_its_kinetics_weights_beside_its_builder(name, kind, url):
    source = registry.get_entry(name).pretrained["kinetics400"]
    assert isinstance(source, kind)
    assert source.url.endswith(url)
    # the declared classifier and submodule exist in the published architecture
    net = getattr(create_model(name), source.attr)
    assert f"{source.head}.weight" in net.state_dict()


def test_c3d_declares_no_weights():
    assert registry.get_entry("c3d").pretrained == {}


class RecordingSource(WeightsSource):
    """A fake source that records what create_model asks of it."""

    label = None

    def __init__(self, events: list, available: bool = True) -> None:
        self.events, self.available = events, available

    def check_available(self, model_name: str) -> None:
        self.events.append(("check", model_name))
        if not self.available:
            raise PretrainedWeightsUnavailable(f"no {model_name}")

    def load(self, model: nn.Module, model_name: str) -> None:
        self.events.append(("load", model_name, model))


@pytest.fixture
def scratch_registry(monkeypatch):
    """A copy of the registry that a test may add to or change."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    return registry._REGISTRY


def _dummy_builder(events: list):
    def build(size: str = "paper", num_classes: int = 400, **options):
        events.append(("build", size, num_classes, options))
        return create_model("c3d", size="tiny", num_classes=num_classes)

    return build


def test_create_model_loads_through_the_declared_source(scratch_registry):
    events: list = []
    register_model("dummy", sizes=("paper", "tiny"), pretrained={"fake": RecordingSource(events)})(
        _dummy_builder(events)
    )
    model = create_model("dummy", num_classes=5, pretrained="fake")
    assert [e[0] for e in events] == ["check", "build", "load"]
    assert events[0] == ("check", "dummy")
    assert events[1] == ("build", "paper", 5, {})
    assert events[2][1] == "dummy" and events[2][2] is model
    with pytest.raises(ValueError, match="valid: fake"):
        create_model("dummy", pretrained="kinetics400")
    with pytest.raises(ValueError, match="size='paper'"):
        create_model("dummy", size="tiny", pretrained="fake")


def test_an_unavailable_source_fails_before_the_build(scratch_registry):
    events: list = []
    source = RecordingSource(events, available=False)
    register_model("dummy", sizes=("paper",), pretrained={"fake": source})(_dummy_builder(events))
    with pytest.raises(PretrainedWeightsUnavailable, match="no dummy"):
        create_model("dummy", pretrained="fake")
    assert events == [("check", "dummy")]


def test_a_real_model_uses_whatever_source_its_entry_declares(scratch_registry):
    events: list = []
    entry = scratch_registry["r2plus1d_18"]
    scratch_registry["r2plus1d_18"] = dataclasses.replace(
        entry, pretrained={"kinetics400": RecordingSource(events)}
    )
    model = create_model("r2plus1d_18", pretrained="kinetics400")  # no file anywhere: offline
    assert [e[0] for e in events] == ["check", "load"] and events[1][2] is model


def test_weights_named_without_a_source_are_loaded_by_the_builder(scratch_registry):
    events: list = []
    register_model("dummy", sizes=("paper", "tiny"), pretrained=("own",))(_dummy_builder(events))
    create_model("dummy", size="tiny", pretrained="own")
    assert events == [("build", "tiny", 400, {"pretrained": "own"})]


def test_register_model_rejects_a_source_that_is_not_one():
    with pytest.raises(TypeError, match="WeightsSource"):
        register_model("dummy", sizes=("paper",), pretrained={"k": "https://x/y.pth"})


class _Wrapped(nn.Module):
    def __init__(self, classes: int) -> None:
        super().__init__()
        self.net = nn.Sequential()
        self.net.add_module("body", nn.Linear(3, 4))
        self.net.add_module("proj", nn.Linear(4, classes))


def test_pytorchvideo_source_reads_the_zoo_checkpoint_from_the_cache(offline_caches):
    source = PytorchvideoWeights("TINY_8x8.pyth", head="proj", root="https://zoo.example/k400")
    with pytest.raises(PretrainedWeightsUnavailable, match="pytorchvideo tiny.*zoo.example"):
        source.check_available("tiny")
    reference = _Wrapped(400)
    path = offline_caches / "torch" / "hub" / "checkpoints" / "TINY_8x8.pyth"
    path.parent.mkdir(parents=True)
    torch.save({"model_state": reference.net.state_dict()}, path)
    source.check_available("tiny")
    same, other = _Wrapped(400), _Wrapped(10)
    source.load(same, "tiny")
    source.load(other, "tiny")  # another label set: the body loads, the head stays fresh
    assert torch.equal(same.net.proj.weight, reference.net.proj.weight)
    assert torch.equal(other.net.body.weight, reference.net.body.weight)
    assert other.net.proj.out_features == 10


# --------------------------------------------------------------- pretrained weights: messages


def _zoo_source() -> PytorchvideoWeights:
    return PytorchvideoWeights("TINY_8x8.pyth", head="proj", root="https://zoo.example/k400")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "the file is empty"),
        (b"garbage, not weights", "not a torch checkpoint"),
        ("truncated", "truncated or corrupt"),
    ],
    ids=["empty", "garbage", "truncated"],
)
def test_a_corrupt_cached_weights_file_is_one_line_naming_it(offline_caches, content, reason):
    path = offline_caches / "torch" / "hub" / "checkpoints" / "TINY_8x8.pyth"
    path.parent.mkdir(parents=True)
    if content == "truncated":
        torch.save({"model_state": _Wrapped(400).net.state_dict()}, path)
        content = path.read_bytes()[:200]
    path.write_bytes(content)
    with pytest.raises(PretrainedWeightsUnavailable) as info:
        _zoo_source().load(_Wrapped(400), "tiny")
    message = str(info.value)
    assert "\n" not in message and "weights_only" not in message
    assert f"pytorchvideo tiny weights at {path} are unreadable (" in message and reason in message
    assert "delete it and download https://zoo.example/k400/TINY_8x8.pyth again" in message


def test_a_cached_file_of_other_weights_says_so(offline_caches):
    path = offline_caches / "torch" / "hub" / "checkpoints" / "TINY_8x8.pyth"
    path.parent.mkdir(parents=True)
    torch.save({"model_state": {"something.else": torch.zeros(2)}}, path)
    with pytest.raises(PretrainedWeightsUnavailable, match="does not hold the weights of"):
        _zoo_source().load(_Wrapped(400), "tiny")


def test_a_failed_download_says_it_failed_and_why(offline_caches, monkeypatch):
    monkeypatch.setenv("VIDAD_ALLOW_DOWNLOAD", "1")

    def offline(url, dst, *args, **kwargs):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(PretrainedWeightsUnavailable) as info:
        _zoo_source().load(_Wrapped(400), "tiny")
    message = str(info.value)
    assert "downloading is disabled" not in message and "\n" not in message
    assert "downloading https://zoo.example/k400/TINY_8x8.pyth failed" in message
    assert "Temporary failure in name resolution" in message
    path = offline_caches / "torch" / "hub" / "checkpoints" / "TINY_8x8.pyth"
    assert f"put it at {path}" in message and not path.exists()


def test_a_failed_hugging_face_download_says_it_failed_and_why(offline_caches, monkeypatch):
    monkeypatch.setenv("VIDAD_ALLOW_DOWNLOAD", "1")

    class Offline:
        @staticmethod
        def from_pretrained(repo, **kwargs):
            raise OSError(f"We couldn't connect to 'https://huggingface.co' to load {repo}")

    source = HuggingFaceWeights("facebook/tiny", model_class=Offline)
    with pytest.raises(PretrainedWeightsUnavailable) as info:
        source.load(_Wrapped(400), "tiny")
    message = str(info.value)
    assert "downloading is disabled" not in message
    assert "downloading https://huggingface.co/facebook/tiny failed" in message
    assert "couldn't connect" in message
