"""The `edgewise refactor` command line (kept free of heavy imports)."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Run one code action over every matching scope of the files under PATH...
Dry run by default: prints a unified diff and changes nothing. --apply writes each file
atomically (after checking it did not change on disk), runs --check, and restores the
file byte for byte if the check fails (unless someone saved it meanwhile: that is kept).
A run stopped by kill -9 is finished (checked again or restored) by --resume.

exit codes: 0 every target applied (--apply) or proposed (dry run);
            1 some target failed, was rejected or skipped, a file was refused, or
              --max-cost stopped the run;
            2 usage or setup error (nothing changed);
            130 interrupted (Ctrl-C, SIGTERM, SIGHUP): finished files kept, the rest untouched.
"""


def add_refactor_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "refactor",
        help="run an action across a repository (dry run unless --apply)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (the roots)")
    parser.add_argument("--action", required=True, help="action id, e.g. docstring")
    parser.add_argument("--instruction", help="instruction text, for actions that take one")
    parser.add_argument(
        "--include",
        action="append",
        metavar="GLOB",
        help="only files matching (name, or path under the root; ** spans folders); repeatable",
    )
    parser.add_argument(
        "--exclude", action="append", metavar="GLOB", help="skip files matching; repeatable"
    )
    parser.add_argument("--apply", action="store_true", help="write the edits (default: dry run)")
    parser.add_argument(
        "--check",
        metavar="CMD",
        help="shell command run after each file is written; on failure the file is restored",
    )
    parser.add_argument(
        "--jobs", type=int, default=1, metavar="N", help="targets in flight (default 1)"
    )
    parser.add_argument(
        "--report",
        metavar="FILE.jsonl",
        help="one JSON line per target + summary; appended to, and only if edgewise wrote it",
    )
    parser.add_argument(
        "--resume", action="store_true", help="skip targets already done in --report"
    )
    parser.add_argument(
        "--max-cost",
        type=float,
        metavar="AMOUNT",
        help="stop before the estimated cost would pass AMOUNT (pricing currency)",
    )
    parser.add_argument(
        "--cost-basis",
        choices=("local", "cloud"),
        default="local",
        help="what --max-cost counts: local (energy x price per kWh, the default) "
        "or cloud (the cloud-equivalent price of the tokens)",
    )
    parser.add_argument("--limit", type=int, metavar="N", help="start at most N targets")
    parser.add_argument(
        "--allow-test-changes",
        action="store_true",
        help="let edits delete or loosen checks (assert, expect, test functions), add "
        "skip/xfail/.only, or change test files (default: refused, with the reason)",
    )
    parser.add_argument("--model", help="model (overrides settings)")
    parser.add_argument("--backend", metavar="URL", help="'embedded' or a server URL")
    parser.add_argument("--settings", metavar="FILE", help="JSON settings file")
    parser.set_defaults(func=cmd_refactor)
    return parser


def cmd_refactor(args: argparse.Namespace) -> int:
    from edgewise.batch.refactor import run_refactor

    return run_refactor(args)
