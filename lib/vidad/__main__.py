"""``python -m vidad <command>``: the library's command line.

Commands: ``score`` (score a video with a saved anomaly detector, see
:mod:`vidad.anomaly.score_cli`) and ``fit-detector`` (fit one on a folder of your own normal
videos, see :mod:`vidad.anomaly.fit_cli`).
"""

from __future__ import annotations

import sys

COMMANDS = {"score": "vidad.anomaly.score_cli", "fit-detector": "vidad.anomaly.fit_cli"}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m vidad {{{','.join(COMMANDS)}}} ...", file=sys.stderr)
        return 2
    import importlib

    return importlib.import_module(COMMANDS[argv[0]]).main(argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
