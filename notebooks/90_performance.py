# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Appendix: performance
#
# Speed is measured by the scripts in `benchmarks/`, never by timed unit tests, on whatever
# machine runs them; each writes a JSON file to `benchmarks/results/` that names the machine,
# and this page shows every such file that is committed. A file is a measurement of one machine
# at one time: the tables say which.
#
# * `benchmarks/decode.py`: clips per second of our decoding + transform path (PyAV, seeking
#   straight to the frames a clip needs) against pytorchvideo's `EncodedVideo` (decode the whole
#   video, then subsample), on the same files with the same transform.
# * `benchmarks/backbones.py`: forward clips per second of the four paper-size backbones in fp32
#   eager (what the original implementations run) and in our inference path (bf16 autocast +
#   `channels_last_3d`, optionally `torch.compile`). The target on one H100 is at least 5x the
#   fp32 throughput.
# * `benchmarks/ae_training.py`: wall time of training the chapter 6 autoencoder on a frozen
#   backbone for 30 epochs the seed's way (decode every clip and run the backbone in every
#   epoch) against the embedding cache (decode and embed once), same clips and settings.
#   Target: at least 20x.

# %% tags=["parameters", "remove-cell"]
profile = "cpu"  # smoke | cpu | gpu (this page reads committed measurements, not the profile)
results_folder = "benchmarks/results"  # where the benchmark scripts' JSON files are

# %%
import json
from pathlib import Path

import pandas as pd
from IPython.display import Markdown, display

from vidad.book import Chapter

chapter = Chapter("90_performance", profile)
display(Markdown(chapter.banner()))
files = sorted(Path(results_folder).glob("*.json"))
measurements = {f.stem: json.loads(f.read_text()) for f in files}
chapter.log_metrics(measurement_files=sorted(measurements))
print(f"{len(files)} measurement file(s) in {results_folder}: {', '.join(measurements) or 'none'}")

# %% [markdown]
# ## Decoding

# %%
decode = {k: v for k, v in measurements.items() if k.startswith("decode")}
for name, m in decode.items():
    meta = m["meta"]
    table = pd.DataFrame(m["rows"]).rename(columns={"name": "path", "clips_s": "clips/s"})
    display(
        Markdown(
            f"**{name}**: {meta['clips']} clips ({meta['size']}, {meta['frames']} frames in all), "
            f"{meta['num_frames']} frames sampled per clip, crop {meta['crop']}, best of "
            f"{meta['repeats']}; CPU `{meta['cpu']}`, {meta['threads']} torch threads, torch "
            f"{meta['torch']}."
        )
    )
    display(table[["path", "seconds", "clips/s", "frames_s"]].round(2))
    if len(table) == 2:
        ratio = table["clips/s"].iloc[0] / table["clips/s"].iloc[1]
        chapter.log_metrics(**{f"{name}_speedup": ratio})
        display(Markdown(f"Our path decodes **{ratio:.2f}x** as many clips per second."))
if not decode:
    display(
        Markdown(
            "No decode measurement is committed yet: run `python benchmarks/decode.py "
            "--json benchmarks/results/decode-<machine>.json`."
        )
    )

# %% [markdown]
# ## Backbones
#
# Published anchors (SPEC section 7, measured on one H100, random weights, forward only,
# batch 32, clips/s) are printed by the script beside ours when it runs on a GPU.

# %%
backbones = {k: v for k, v in measurements.items() if k.startswith("backbones")}
for name, m in backbones.items():
    meta = m["meta"]
    rows = pd.DataFrame(m["rows"])
    display(
        Markdown(
            f"**{name}**: device `{meta['device']}` ({meta['device_name']}), torch "
            f"{meta['torch']}, size {meta['size']}, batch {meta['batch_size']}, shapes "
            f"{meta['shapes']}."
        )
    )
    wide = rows.pivot_table(index="model", columns="mode", values="clips_s")
    if "fp32" in wide:
        for mode in [c for c in wide.columns if c != "fp32"]:
            wide[f"{mode} / fp32"] = wide[mode] / wide["fp32"]
    display(wide.round(2))
if not any(m["meta"].get("device", "").startswith("cuda") for m in backbones.values()):
    display(
        Markdown(
            "No GPU measurement is committed: the machines that built this page had no GPU. "
            "On one, run `python benchmarks/backbones.py --shapes published --json "
            "benchmarks/results/backbones-<gpu>.json` and re-run `dvc repro`."
        )
    )

# %% [markdown]
# ## Autoencoder training on a frozen backbone
#
# "cold" builds the clip cache and the embedding cache from nothing and then trains; "warm" is
# every later run (the embeddings are on disk): AE epochs only.

# %%
ae_runs = {k: v for k, v in measurements.items() if k.startswith("ae_training")}
for name, m in ae_runs.items():
    display(
        Markdown(
            f"**{name}**: {m['backbone']} ({m['profile']} preset), {m['epochs']} epochs, batch "
            f"{m['batch_size']}, {m['train_clips']} train + {m['val_clips']} val clips; machine "
            f"`{m['machine']}` ({m['processor']}), {m['threads']} torch threads, "
            f"torch {m['torch']}."
        )
    )
    table = pd.DataFrame(
        {
            "way": ["seed: decode + backbone every epoch", "cache, cold", "cache, warm"],
            "seconds": [m["seed_way_s"], m["cache_cold_s"], m["cache_warm_s"]],
            "speed-up vs seed": [1.0, m["speedup_cold"], m["speedup_warm"]],
        }
    )
    display(table.round(2))
    chapter.log_metrics(**{f"{name}_speedup_cold": m["speedup_cold"]})
    chapter.log_metrics(**{f"{name}_speedup_warm": m["speedup_warm"]})
    display(
        Markdown(
            f"Against the 20x target: cold {m['speedup_cold']:.1f}x "
            f"({'met' if m['speedup_cold'] >= 20 else 'not met'}), warm "
            f"{m['speedup_warm']:.0f}x ({'met' if m['speedup_warm'] >= 20 else 'not met'})."
        )
    )
if not ae_runs:
    display(
        Markdown(
            "No autoencoder-training measurement is committed yet: run `python "
            "benchmarks/ae_training.py --profile cpu --json "
            "benchmarks/results/ae_training-<machine>.json`."
        )
    )
