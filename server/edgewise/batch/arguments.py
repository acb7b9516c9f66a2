"""The `edgewise refactor` command line (kept free of heavy imports)."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Run one code action over every matching scope of the files under PATH...
Dry run by default: prints a unified diff and changes nothing. --apply writes each file
atomically (after checking it did not change on disk), runs --check, and restores the
file byte for byte if the check fails (unless someone saved it meanwhile: that is kept).
A run stopped by kill -9 is finished (checked again or restored) by --resume.
With --report (or --review FILE.md) it writes a review: each change with its diff,
confidence and checks, least sure first, a checkbox each; tick the ones to keep and run
--apply-reviewed FILE.md to apply exactly those.

exit codes: 0 every target applied (--apply) or proposed (dry run);
            1 some target failed, was rejected or skipped, a file was refused, or
              --max-cost stopped the run;
            2 usage or setup error (nothing changed);
            130 interrupted (Ctrl-C, SIGTERM, SIGHUP): finished files kept, the rest untouched.
"""


def action_ids() -> str:
    """The actions --action takes (from the action catalog), for --help."""
    from edgewise.actions.catalog import ACTIONS
    from edgewise.batch.refactor import takes_instruction

    rows = []
    for spec in ACTIONS:
        title = spec.title.replace(" (edgewise)", "").replace(": {message}", "")
        needs = " (needs --instruction)" if takes_instruction(spec) else ""
        languages = ", ".join(sorted(spec.languages))
        rows.append(f"  {spec.id:<22} {title}{needs}; {languages}")
    return "action ids (--action):\n" + "\n".join(rows)


class HelpWithActions(argparse.Action):
    """-h/--help: the help, with the action ids at the end (the catalog is imported only
    then: it loads the parsers)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show this help and the action ids")

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        parser.epilog = action_ids()
        parser.print_help()
        parser.exit()


def add_refactor_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "refactor",
        help="run an action across a repository (dry run unless --apply)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,
    )
    parser.add_argument("-h", "--help", action=HelpWithActions)
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (the roots)")
    parser.add_argument(
        "--action",
        help="action id, e.g. docstring (listed below; required unless --apply-reviewed)",
    )
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
        "--review",
        metavar="FILE.md",
        help="write a review of the run here: each change with its diff and facts, least sure "
        "first, a checkbox each (default with --report: REPORT.review.md beside it)",
    )
    parser.add_argument("--no-review", action="store_true", help="write no review")
    parser.add_argument(
        "--apply-reviewed",
        metavar="FILE.md",
        help="apply only the changes ticked (- [x]) in a review, to files unchanged since; "
        "no model runs (takes --check)",
    )
    parser.add_argument(
        "--keep-prompts",
        action="store_true",
        help="keep each model call's prompt so that `edgewise replay REPORT_ID` can run it again",
    )
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
    import sys
    from pathlib import Path

    if args.apply_reviewed:
        from edgewise.batch.apply_reviewed import run_apply_reviewed

        extra = [
            name
            for name, given in (
                ("PATH", args.paths),
                ("--action", args.action),
                ("--apply", args.apply),
                ("--resume", args.resume),
                ("--review", args.review),
                ("--report", args.report),
            )
            if given
        ]
        if extra:
            print(
                f"edgewise refactor: --apply-reviewed takes the review alone (and --check), "
                f"not {', '.join(extra)}",
                file=sys.stderr,
            )
            return 2
        return run_apply_reviewed(Path(args.apply_reviewed), args.check, Path.cwd())
    missing = [
        name for name, given in (("PATH", args.paths), ("--action", args.action)) if not given
    ]
    if missing:
        print(f"edgewise refactor: {' and '.join(missing)} required", file=sys.stderr)
        return 2
    from edgewise.batch.refactor import run_refactor

    return run_refactor(args)
