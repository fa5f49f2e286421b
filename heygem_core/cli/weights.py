"""`heygem weights add|list|verify|remove`: the checkpoints in the weights folder."""
from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager

from ..engines.wav2lip.weights import ENV_VAR, WeightsStore


def register(subparsers) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--weights-dir", metavar="DIR",
                        help=f"weights folder (default: ${ENV_VAR}, else ~/.cache/heygem/weights)")
    parser = subparsers.add_parser(
        "weights", help="add, list and verify model checkpoints",
        description="Model checkpoints kept in one folder, verified by sha256 and used by name: "
                    "`heygem generate --engine wav2lip --checkpoint wav2lip_gan …`.")
    actions = parser.add_subparsers(dest="weights_action", metavar="ACTION", required=True)

    add = actions.add_parser("add", parents=[common], help="copy or download a checkpoint into the folder",
                             description="Copy a checkpoint file, or download one (resumable), check its "
                                         "sha256 and that it loads as a Wav2Lip generator, and register it.")
    add.add_argument("source", metavar="PATH|URL", help="checkpoint file, or an http(s) URL to download")
    add.add_argument("--sha256", metavar="HEX", help="expected sha256; a mismatch registers nothing")
    add.add_argument("--name", help="name to refer to it by (default: the file name without .pth)")
    add.add_argument("--force", action="store_true", help="replace an entry of the same name")
    add.add_argument("--allow-pickle", action="store_true",
                     help="allow full unpickling of this file (runs code from the file: only for a source "
                          "you trust; needed only for checkpoints holding more than tensors)")
    add.set_defaults(func=_add)

    lst = actions.add_parser("list", parents=[common], help="list registered checkpoints")
    lst.set_defaults(func=_list)

    verify = actions.add_parser("verify", parents=[common], help="re-check every checkpoint's sha256")
    verify.add_argument("names", nargs="*", metavar="NAME", help="only these (default: all)")
    verify.set_defaults(func=_verify)

    remove = actions.add_parser("remove", parents=[common], help="delete a registered checkpoint")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(func=_remove)


def _add(args) -> int:
    store = WeightsStore(args.weights_dir)
    with _bar(f"{args.source}") as progress:
        entry = store.add(args.source, sha256=args.sha256, name=args.name, force=args.force,
                          allow_pickle=args.allow_pickle, on_progress=progress)
    print(f"{entry.name}  {_size(entry.size)}  sha256 {entry.sha256}")
    print(f"use it with: --checkpoint {entry.name}")
    return 0


def _list(args) -> int:
    store = WeightsStore(args.weights_dir)
    entries = store.list()
    if not entries:
        print(f"no weights in {store.root}; add one with `heygem weights add PATH|URL`")
        return 0
    width = max(len(e.name) for e in entries)
    print(f"{'NAME':<{width}}  {'SIZE':>9}  {'SHA256':<12}  {'ADDED':<25}  SOURCE")
    for e in entries:
        print(f"{e.name:<{width}}  {_size(e.size):>9}  {e.sha256[:12]}  {e.added:<25}  {e.source}")
    print(f"({store.root})")
    return 0


def _verify(args) -> int:
    store = WeightsStore(args.weights_dir)
    with _bar("verifying") as progress:
        results = store.verify(args.names or None, on_progress=progress)
    if not results:
        print(f"no weights in {store.root}")
        return 0
    for r in results:
        print(f"ok      {r.entry.name}" if r.ok else f"FAILED  {r.entry.name}: {r.problem}")
    return 0 if all(r.ok for r in results) else 1


def _remove(args) -> int:
    WeightsStore(args.weights_dir).remove(args.name)
    print(f"removed {args.name}")
    return 0


@contextmanager
def _bar(label: str):
    """A tqdm byte counter fed by the library's ``on_progress(done, total)`` calls (hidden when not a tty)."""
    from tqdm import tqdm

    bar = tqdm(desc=label[-40:], unit="B", unit_scale=True, unit_divisor=1024, leave=False, file=sys.stderr,
               disable=None)

    def update(done: int, total: int | None) -> None:
        if done < bar.n or (total is not None and bar.total != total):   # a new file or a restart
            bar.reset(total=total)
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        bar.close()


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)
