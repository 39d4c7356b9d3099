"""Anomaly detection in the embedding space of pretrained space-time models (SPEC section 1).

``embeddings`` (frozen clip embeddings, cached), ``autoencoder`` (the seed's AE), ``train_ae``
(v1 frozen / v2 fine-tuned), ``scores`` (reconstruction error, centroid rule), ``baselines``
(k-NN, Mahalanobis, IsolationForest, One-Class SVM; the registry other heads plug into),
``metrics`` (AUROC / AUPR with bootstrap CIs, the two Table-2 threshold protocols),
``published`` (the seed's reported numbers).
"""
