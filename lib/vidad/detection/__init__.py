"""Spatio-temporal action detection (SPEC section 3): keyframe data, training, evaluation."""
