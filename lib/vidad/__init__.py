"""vidad: the library behind the book on video action recognition and anomaly detection.

Every chapter of the book imports this package; the heavy lifting (decoding, synthetic data,
models, training, evaluation) lives here so it can be tested and run without Jupyter.
"""

__version__ = "0.1.0"
