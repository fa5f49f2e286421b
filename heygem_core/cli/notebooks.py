"""`heygem notebooks [--to DIR]`: copies of the tuning and batch notebooks to open in JupyterLab."""
from __future__ import annotations

import shutil
from pathlib import Path

NAMES = ("tune.ipynb", "batch.ipynb")


def register(sub) -> None:
    p = sub.add_parser("notebooks", help="copy the tuning and batch notebooks into a folder, for JupyterLab",
                       description="Copy tune.ipynb and batch.ipynb into DIR (a copy already there is kept: "
                                   "your edits are never overwritten), then print the command that opens them.")
    p.add_argument("--to", default="notebooks", metavar="DIR", help="where the copies go (default ./notebooks)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..resources import notebook

    folder = Path(args.to).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        target = folder / name
        if target.exists():
            print(f"{target} (kept: already there)")
            continue
        shutil.copyfile(notebook(name), target)
        print(target)
    print(f"open them with: jupyter lab {folder / NAMES[0]}")
    return 0
