"""Spatio-temporal action detection, AVA style (Gu et al., CVPR 2018): keyframe data and splits,
SlowFast + RoI head training under the source study's loss variants, evaluation."""
