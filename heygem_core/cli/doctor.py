"""`heygem doctor --root-path WS`: check the job store against the outputs on disk, and repair it."""
from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("doctor", help="check a workspace's job store against outputs/ and repair it",
                       description="Check the job store (jobs.sqlite) and the outputs on disk. Repairs: a damaged "
                                   "store is kept aside and rebuilt, outputs without a record are recorded again, "
                                   "leftovers of dead runs are removed. The worker must not be running.")
    p.add_argument("--root-path", default="workspace", metavar="DIR", help="workspace folder (default ./workspace)")
    p.add_argument("--check", action="store_true", help="only report; change nothing (exit 1 if anything is wrong)")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from ..errors import InputError
    from ..jobs.doctor import check_workspace

    root = Path(args.root_path).expanduser()
    if not root.is_dir():
        raise InputError(root, "no such folder")
    report = check_workspace(root, repair=not args.check)
    for line in report.lines():
        print(line)
    sys.stdout.flush()
    return 1 if args.check and not report.healthy else 0
