"""One module per chapter: a typed ``Config`` whose fields are that chapter's ``params.yaml`` keys,
``run(config, paths) -> Result`` doing all of its work, and the ``Result`` a notebook shows.

Experiments sit above every other library package and below only the book and the CLIs: a
notebook imports its experiment, never the other way round.
"""
