"""Shared pieces of the sub-commands: the option flags generated from `LipSyncOptions`."""
from __future__ import annotations

import argparse

from ..options import LipSyncOptions, option_fields


def add_option_flags(parser: argparse.ArgumentParser) -> None:
    """`--params FILE` plus one flag per option (`--mouth-gain 1.2`); flags override the file."""
    parser.add_argument("--params", metavar="P.yaml", help="YAML parameter set (see params/default.yaml)")
    group = parser.add_argument_group("options (override --params)")
    for f in option_fields():
        flag = "--" + f.name.replace("_", "-")
        meta = f.metadata
        if isinstance(f.default, bool):
            group.add_argument(flag, dest=f"opt_{f.name}", action=argparse.BooleanOptionalAction, default=None,
                               help=meta["help"])
            continue
        kind = float if isinstance(f.default, float) else int if isinstance(f.default, int) else str
        group.add_argument(flag, dest=f"opt_{f.name}", type=kind, default=None, choices=meta["choices"],
                           metavar=None if meta["choices"] else f.name.upper(), help=meta["help"])


def options_from_args(args: argparse.Namespace) -> LipSyncOptions:
    return LipSyncOptions.load(args.params, **{f.name: getattr(args, f"opt_{f.name}", None) for f in option_fields()})
