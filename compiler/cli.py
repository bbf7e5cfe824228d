"""The ``snnc`` command line. Each subcommand is a small function; errors in the user's input are
printed as located diagnostics with exit code 2, never as a Python traceback."""
from __future__ import annotations

import argparse
import json
import os
import sys

from snnc.errors import SnnError, SnnErrors

EXIT_OK = 0
EXIT_USER_ERROR = 2
EXIT_INTERNAL = 70


def _errors_of(exc) -> list[SnnError]:
    return exc.errors if isinstance(exc, SnnErrors) else [exc]


def cmd_check(args) -> int:
    from snnc.build import load
    from snnc.serialize import dump, summary, summary_text

    status = EXIT_OK
    results = []
    for path in args.files:
        try:
            loaded = load(path)
        except (SnnError, SnnErrors) as exc:
            status = EXIT_USER_ERROR
            errors = _errors_of(exc)
            if args.json:
                # an error about the file itself (missing, a folder) names it, with no position
                results.append({"file": path, "ok": False,
                                "errors": [{**e.to_json(), **({"file": path} if e.loc is None
                                                              else {})} for e in errors]})
            else:
                print(SnnErrors(errors).format(), file=sys.stderr)
                n = len(errors)
                print(f"{path}: {n} error{'s' if n != 1 else ''}", file=sys.stderr)
            continue
        if args.json:
            entry = {"file": path, "ok": True, "summary": summary(loaded.graph),
                     "warnings": [w.to_json() for w in loaded.warnings]}
            if args.dump:
                from snnc.serialize import graph_to_json

                entry["graph"] = graph_to_json(loaded.graph)
            results.append(entry)
            continue
        for w in loaded.warnings:
            print(w.format(), file=sys.stderr)
        print(dump(loaded.graph) if args.dump else summary_text(loaded.graph))
    if args.json:
        print(json.dumps(results if len(results) != 1 else results[0], indent=2))
    return status


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose option errors are also printed as JSON on standard output when
    the command line asks for ``--json`` (scripts got nothing to parse for a bad option)."""

    json_errors = False         # set by main() for one parse

    def error(self, message):
        if _Parser.json_errors:
            err = SnnError(None, message, f"see {self.prog} --help")
            print(json.dumps({"ok": False, "errors": [err.to_json()]}, indent=2))
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="snnc", description="snnc: compile spiking neural network models (.snn) to PyTorch, a "
                                 "fixed-point golden model, Verilog and HLS C++.")
    from snnc import __version__

    parser.add_argument("--version", action="version", version=f"snnc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("check", help="parse and check models; print a summary or the typed graph")
    p.add_argument("files", nargs="+", metavar="FILE", help=".snn model files")
    p.add_argument("--json", action="store_true", help="print the summary or the errors as JSON")
    p.add_argument("--dump", action="store_true", help="print the typed graph")
    p.set_defaults(func=cmd_check)

    for register in _EXTRA_COMMANDS:
        register(sub)
    parser.commands = sub.choices       # name -> the command's parser
    return parser


#: Functions that add further subcommands (the backends register theirs here).
_EXTRA_COMMANDS: list = []
from snnc.simulate_cmd import register as _register_simulate  # noqa: E402
from snnc.train_cmd import register as _register_train  # noqa: E402

_EXTRA_COMMANDS += [_register_simulate, _register_train]
from snnc.compile_cmd import register as _register_compile; _EXTRA_COMMANDS.append(_register_compile)  # noqa: E402,E702
from snnc.verify_cmd import register as _register_verify; _EXTRA_COMMANDS.append(_register_verify)  # noqa: E402,E702
from snnc.demo_cmd import register as _register_demo; _EXTRA_COMMANDS.append(_register_demo)  # noqa: E402,E702
from snnc.report_cmd import register as _register_report; _EXTRA_COMMANDS.append(_register_report)  # noqa: E402,E702
from snnc.convert_cmd import register as _register_convert; _EXTRA_COMMANDS.append(_register_convert)  # noqa: E402,E702


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Python warnings (from snnc, numpy, torch) as one ``warning:`` line, without the source
    path and line that Python's default format shows."""
    print(f"warning: {message}", file=file if file is not None else sys.stderr)


def _user_errors(args, errors: list[SnnError]) -> int:
    """Print ``errors`` on standard error (and, with --json, as JSON on standard output, as
    `snnc check --json` gives them); the user-error exit code."""
    print(SnnErrors(errors).format(), file=sys.stderr)
    if getattr(args, "json", False):
        print(json.dumps({"ok": False, "errors": [e.to_json() for e in errors]}, indent=2))
    return EXIT_USER_ERROR


#: What torch's allocators say when memory runs out (they raise RuntimeError, not MemoryError).
_TORCH_ALLOCATION_FAILED = ("can't allocate memory", "out of memory")


def _allocation_failed(exc: Exception) -> bool:
    return isinstance(exc, RuntimeError) and any(s in str(exc) for s in _TORCH_ALLOCATION_FAILED)


def _out_of_memory(args, what) -> SnnError:
    """The error for memory that ran out although ``snnc.memory``'s estimates let the work
    start."""
    training = getattr(args, "command", None) in ("train", "demo")
    return SnnError(None, f"out of memory ({what})",
                    "training keeps every step of every layer for the gradients: use a smaller "
                    "--batch-size, or fewer steps or neurons" if training else
                    "the simulators hold every step of every layer: use fewer samples, steps or "
                    "neurons")


def main(argv: list[str] | None = None) -> int:
    import warnings

    parser = build_parser()
    words = sys.argv[1:] if argv is None else [str(a) for a in argv]
    _Parser.json_errors = "--json" in words[: words.index("--")] if "--" in words else \
        "--json" in words
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:       # said by the command's parser (its usage and --help), not the top one's
            parser.commands[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    finally:
        _Parser.json_errors = False
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return args.func(args)
    except (SnnError, SnnErrors) as exc:
        return _user_errors(args, _errors_of(exc))
    except KeyboardInterrupt:
        print("snnc: interrupted", file=sys.stderr)
        return 130
    except MemoryError as exc:      # what memory.check_fits did not foresee
        return _user_errors(args, [_out_of_memory(args, exc or "MemoryError")])
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug in snnc, not in the user's model
        if _allocation_failed(exc):         # torch's allocators raise RuntimeError
            return _user_errors(args, [_out_of_memory(args, str(exc).splitlines()[0])])
        if os.environ.get("SNNC_DEBUG"):
            raise
        print(f"snnc: internal error: {type(exc).__name__}: {exc}\n"
              "this is a bug in snnc; run with SNNC_DEBUG=1 for a traceback", file=sys.stderr)
        if getattr(args, "json", False):
            bug = SnnError(None, f"{type(exc).__name__}: {exc}", severity="internal")
            print(json.dumps({"ok": False, "errors": [bug.to_json()]}, indent=2))
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
