"""Published reference numbers the chapters print beside ours, each with its source.

Kept in one place so that no notebook types a number: a page shows these only in columns or
sentences labelled "published".
"""

from __future__ import annotations

#: Feichtenhofer et al., *SlowFast Networks for Video Recognition*, ICCV 2019: Kinetics-400
#: top-1 (%) of 4x16 R50 models (Table 5a); its GFLOPs are multiply-adds per view (the paper
#: counts one multiply-add as one FLOP, as fvcore does).
SLOWFAST_SOURCE = "Feichtenhofer et al., SlowFast, ICCV 2019 (Kinetics-400, 4x16 R50)"
SLOWFAST_TOP1: dict[str, float] = {
    "slowfast": 75.6,
    "time_strided_sampling": 75.4,
    "time_to_channel": 74.5,
    "no_lateral": 73.5,
    "slow_only": 72.6,
    "fast_only": 51.7,
    "beta_1_4": 75.6,
}
SLOWFAST_GFLOPS: dict[str, float] = {
    "slowfast_8x8": 65.7,
    "slowfast_4x16": 36.1,
    "slow_only_4x16": 27.3,
    "fast_only_4x16": 6.4,
}
SLOWFAST_PARAMS_M: dict[str, float] = {
    "slowfast_8x8": 34.57,
    "slow_only_4x16": 32.4,
    "fast_only_4x16": 0.53,
}
SLOWFAST_FAST_SHARE = 0.20  # "about 20% of total compute"

#: Bertasius et al., *Is Space-Time Attention All You Need for Video Understanding?*, ICML 2021:
#: top-1 (%) on Kinetics-400 / Something-Something v2 and parameters per attention scheme.
TIMESFORMER_SOURCE = "Bertasius et al., TimeSformer, ICML 2021"
TIMESFORMER: dict[str, dict[str, float]] = {
    "space_only": {"k400": 76.9, "ssv2": 36.6, "params_m": 85.9},
    "joint_space_time": {"k400": 77.4, "ssv2": 58.5, "params_m": 85.9},
    "divided_space_time": {"k400": 78.0, "ssv2": 59.5, "params_m": 121.4},
}
TIMESFORMER_GMACS_PER_VIEW = 196.0

#: Tran et al., *Learning Spatiotemporal Features with 3D Convolutional Networks*, ICCV 2015.
C3D_SOURCE = "Tran et al., C3D, ICCV 2015"
C3D_PARAMS_M = 78.4
C3D_GMACS = 38.5

#: Tran et al., *A Closer Look at Spatiotemporal Convolutions for Action Recognition*, CVPR 2018,
#: as shipped by torchvision (r2plus1d_18, 16x112^2; its model card's size and compute).
R2PLUS1D_SOURCE = "Tran et al., CVPR 2018; torchvision r2plus1d_18 model card"
R2PLUS1D_PARAMS_M = 31.5
R2PLUS1D_GMACS = 40.5
R2PLUS1D_K400_TOP1 = 67.46

#: Gong et al., MemAE, on the real UCSD Ped2: frame-level AUROC with per-video min-max scores.
MEMAE_SOURCE = (
    "Gong et al., Memorizing Normality to Detect Anomaly: Memory-augmented Deep Autoencoder "
    "for Unsupervised Anomaly Detection, ICCV 2019"
)
MEMAE_PED2_AUROC = 0.941
