"""Anomaly detection in the embedding space of pretrained space-time models.

``embeddings`` (frozen clip embeddings, cached), ``autoencoder`` (the seed's AE), ``train_ae``
(v1 frozen / v2 fine-tuned), ``scores`` (reconstruction error, centroid rule), ``baselines``
(k-NN, Mahalanobis, IsolationForest, One-Class SVM; the registry other heads plug into),
``heads`` (a MemAE head and Deep SVDD, registered as baselines), ``pixel`` (a 3-D conv
autoencoder on the clips themselves), ``detector`` (a saved detector that scores long videos
with sliding windows: ``python -m vidad score``), ``metrics`` (AUROC / AUPR with bootstrap
CIs, the two Table-2 threshold protocols),
``published`` (the seed's reported numbers).
"""

from vidad.anomaly import heads as heads  # registers the learned heads as scorers
