"""`heygem` command line. Each sub-command lives in its own module with `register(subparsers)`.

Errors the user can cause print one line, `heygem: error: <file>: <reason>`, and exit 2; faults of the
machine (a full disk, an I/O error, a damaged job store) print one line the same way and exit 1; the
traceback only with `--debug`. SIGTERM and SIGHUP stop a command as Ctrl-C does: what it was writing is
removed, nothing half-written is left.
"""
from __future__ import annotations

import argparse
import errno
import importlib
import logging
import signal
import sys

from ..errors import HeygemError

# Sub-command modules, in the order `heygem --help` lists them.
COMMANDS = ("generate", "score", "demo", "jobs", "serve", "batch", "notebooks", "weights", "doctor")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every sub-command, or of ``command`` alone when it is one of them (each sub-command
    module imports what it needs: a run of one need not import all the others)."""
    parser = argparse.ArgumentParser(prog="heygem", description="Audio-driven talking-head video, locally.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks and debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in (command,) if command in COMMANDS else COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(next((word for word in argv if not word.startswith("-")), None))
    args = parser.parse_args(argv)
    _refuse_repeats(parser, args, argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    received = _stop_on_signals()
    try:
        return int(args.func(args) or 0)
    except HeygemError as exc:
        if args.debug:
            raise
        print(f"heygem: error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    except OSError as exc:
        if args.debug:
            raise
        print(f"heygem: error: {os_error_line(exc)}", file=sys.stderr)
        return 1 if exc.errno in _FAULTS else 2
    except KeyboardInterrupt:
        print("heygem: interrupted" + (f" ({received[0].name})" if received else ""), file=sys.stderr)
        return 128 + (received[0] if received else signal.SIGINT)


def _refuse_repeats(parser: argparse.ArgumentParser, args, argv: list[str]) -> None:
    """A single-valued flag given twice (``--audio a --audio b``) is refused, not silently reduced to the
    last one; flags that take several values (``--video``) add up instead."""
    sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    command = sub.choices.get(getattr(args, "command", None)) if sub else None
    if command is None:
        return
    counts: dict[argparse.Action, list[str]] = {}
    for word in argv:
        if word == "--":
            break
        flag = word.split("=", 1)[0]
        action = command._option_string_actions.get(flag)
        if action is not None:
            counts.setdefault(action, []).append(flag)
    for action, used in counts.items():
        repeatable = isinstance(action, (argparse._AppendAction, argparse._ExtendAction, argparse._CountAction,
                                         argparse._HelpAction))
        if len(used) > 1 and not repeatable:
            command.error(f"{used[0]} was given {len(used)} times; give it once")


# Errors of the machine rather than of the paths the user gave.
_FAULTS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.ENOMEM, errno.EFBIG}


def os_error_line(exc: OSError) -> str:
    """``<path>: <reason>`` for an operating-system error."""
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        reason = "no space left on the device"
    elif exc.errno == errno.EROFS:
        reason = "read-only file system"
    return f"{exc.filename}: {reason}" if exc.filename else reason


def _stop_on_signals() -> list:
    """SIGTERM and SIGHUP raise KeyboardInterrupt, so every ``with``/``finally`` cleans up as for Ctrl-C.
    Returns a list that receives the signal."""
    received: list = []

    def handler(signum, frame):
        if not received:
            received.append(signal.Signals(signum))
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            signal.signal(sig, handler)
        except ValueError:      # not the main thread (the CLI called from a test or a notebook thread)
            pass
    return received


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
