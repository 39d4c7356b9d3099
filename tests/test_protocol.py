"""The UCF Sports protocol: split sizes, stratification, grouping, anomaly set."""

from __future__ import annotations

import pandas as pd
import pytest

from vidad.data.protocol import (
    ANOMALY_CLASSES,
    NORMAL_CLASSES,
    UCF_SPORTS_CLASSES,
    UCF_SPORTS_CLIP_COUNTS,
    assign_splits,
    canonical_class,
    split_counts,
)


def test_protocol_constants_match_the_source_study() -> None:
    assert len(UCF_SPORTS_CLASSES) == 10
    assert sum(UCF_SPORTS_CLIP_COUNTS.values()) == 150
    assert set(ANOMALY_CLASSES) == {"Walk-Front", "Lifting", "SkateBoarding-Front"}
    assert len(NORMAL_CLASSES) == 7
    assert canonical_class("Golf-Swing-Side") == "Golf-Swing"
    assert canonical_class("Kicking-Front") == "Kicking"
    assert canonical_class("Run-Side") == "Run-Side"


@pytest.mark.parametrize("n", [3, 7, 10, 13, 20, 41])
def test_split_counts_add_up_and_leave_no_split_empty(n: int) -> None:
    counts = split_counts(n, {"train": 0.5, "val": 0.1, "test": 0.4})
    assert sum(counts.values()) == n
    assert min(counts.values()) >= 1
    assert counts["train"] >= counts["test"] >= counts["val"]


def make_table(per_class: int, actors_per_class: int) -> pd.DataFrame:
    rows = []
    for cls in UCF_SPORTS_CLASSES:
        for i in range(per_class):
            rows.append({"class": cls, "actor": f"{cls}-{i % actors_per_class}"})
    return pd.DataFrame(rows)


def test_assign_splits_is_stratified_seeded_and_keeps_anomalies_out_of_training() -> None:
    table = make_table(20, 20)
    split = assign_splits(table, seed=0)
    assert (split[table["class"].isin(ANOMALY_CLASSES)] == "anomaly").all()
    normal = split[~table["class"].isin(ANOMALY_CLASSES)]
    assert set(normal) == {"train", "val", "test"}
    per_class = pd.crosstab(table["class"], split).loc[list(NORMAL_CLASSES)]
    assert (per_class["train"] == 10).all() and (per_class["val"] == 2).all()
    assert assign_splits(table, seed=0).equals(split)
    assert not assign_splits(table, seed=1).equals(split)


def test_grouped_split_never_shares_an_actor_between_splits() -> None:
    table = make_table(20, 10)
    split = assign_splits(table, seed=3, group_column="actor")
    per_actor = pd.DataFrame({"actor": table["actor"], "split": split}).groupby("actor")["split"]
    assert (per_actor.nunique() == 1).all()
