"""`heygem` command line. Each sub-command lives in its own module with `register(subparsers)`.

Errors the user can cause print one line, `heygem: error: <file>: <reason>`, and exit 2; the traceback
only with `--debug`.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from ..errors import HeygemError

# Sub-command modules, in the order `heygem --help` lists them.
COMMANDS = ("generate", "score", "demo", "jobs", "serve", "batch", "notebooks", "weights")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="heygem", description="Audio-driven talking-head video, locally.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks and debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except HeygemError as exc:
        if args.debug:
            raise
        print(f"heygem: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("heygem: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
