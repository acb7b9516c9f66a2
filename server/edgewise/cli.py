"""Command line: serve | context | models | doctor | calibrate | refactor | replay | cost."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from edgewise import __version__
from edgewise.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE


def _settings_from(args: argparse.Namespace) -> Any:
    from edgewise.config import parse_settings

    raw: dict[str, Any] = {}
    if getattr(args, "settings", None):
        raw = json.loads(Path(args.settings).read_text("utf-8"))
    if getattr(args, "model", None):
        raw["model"] = args.model
    result = parse_settings(raw)
    for problem in result.problems:
        print(f"edgewise: {problem}", file=sys.stderr)
    return result.settings


def cmd_serve(args: argparse.Namespace) -> int:
    from edgewise.lsp.server import create_server
    from edgewise.redact import guard_logging

    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, stream=sys.stderr)
    guard_logging()  # no secret in the log, whatever a server sent
    server = create_server(_settings_from(args))
    server.start_io()
    return EXIT_OK


def cmd_context(args: argparse.Namespace) -> int:
    from edgewise.context.documents import MAX_PARSE_BYTES
    from edgewise.context.positions import Pos
    from edgewise.context.workspace import default_roots
    from edgewise.engine import Engine
    from edgewise.model.backend import ModelError
    from edgewise.model.llama import LlamaBackend
    from edgewise.model.registry import resolve_model

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"edgewise: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    if args.line < 1 or args.column < 1:
        print("edgewise: --line and --column are 1-based", file=sys.stderr)
        return EXIT_USAGE
    note = ""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8", "replace")
        note = f"not UTF-8 (byte {exc.start}): plain window context, bad bytes replaced"
    settings = _settings_from(args)
    engine = Engine(settings, allow_download=False)
    # the CLI counts columns in characters
    engine.position_encoding = "utf-32"
    roots = [Path(root) for root in args.root] if args.root else default_roots(path)
    engine.workspace_roots = roots
    try:
        model_path = Path(args.tokenizer) if args.tokenizer else resolve_model(settings.model).path
        # the context the server runs the model with: its prompts leave room in it
        backend = LlamaBackend.load_vocab(model_path, settings.context_length)
    except ModelError as exc:
        print(f"edgewise: {exc}", file=sys.stderr)
        return EXIT_USAGE
    doc = engine.documents.open(path.resolve().as_uri(), text)
    if note and len(data) <= MAX_PARSE_BYTES:
        doc.drop_tree(note)
    budget = args.budget or settings.context_budget
    # what the server sends at this position (edgewise.lastPrompt), by the same path
    sent = engine.sent_prompt(backend, doc, Pos(args.line - 1, args.column - 1), budget)
    if sent["prompt_tokens"] > budget:
        print(
            f"edgewise: a budget of {budget} tokens cannot hold even the prompt's markers "
            f"({sent['prompt_tokens']} tokens)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    out = dict(sent)
    out["file"] = str(path)
    out["budget"] = budget
    out["tokenizer"] = str(model_path)
    out["roots"] = [str(root) for root in engine.workspace_roots]
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(
            f"{out['prompt_tokens']} of {out['budget']} tokens, {out['format']} prompt, "
            f"assembled in {out['assembly_ms']:.2f} ms"
        )
        for piece in out["pieces"]:
            where = piece["source"] if piece["source"] != doc.uri else "this file"
            print(
                f"  {piece['kind']:<13} {where} lines {piece['start_line']}-{piece['end_line']}: "
                f"{piece['tokens']} tokens"
            )
        for line in out["notes"]:
            print(f"  note: {line}")
        if out.get("heal_prefix"):
            print(f"  note: token healing: the model writes {out['heal_prefix']!r} again")
        print("----- prompt -----")
        print(out["text"])
    return EXIT_OK


def cmd_models(args: argparse.Namespace) -> int:
    from edgewise.model.catalog import list_models

    models = list_models(_settings_from(args))
    if args.json:
        print(json.dumps(models, indent=2))
    else:
        for model in models:
            print(
                f"{model['origin']:<10} {model['name']:<40} {model.get('size_mb', '?'):>8} MB  "
                f"{model.get('architecture', '?'):<10} ctx {model.get('context_length', '?'):<7} "
                f"fim {'yes' if model.get('fim') else 'no':<3}  {model['path']}"
            )
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    from edgewise.model import doctor

    found = doctor.run(_settings_from(args))
    print(json.dumps(found, indent=2) if args.json else doctor.describe(found))
    return EXIT_OK if found["runs"] else EXIT_FAILED


def cmd_calibrate(args: argparse.Namespace) -> int:
    import asyncio

    from edgewise.calibration.command import CalibrationError, run_calibration
    from edgewise.model.backend import ModelError

    if args.samples < 1:
        print("edgewise: --samples must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if args.time_limit is not None and args.time_limit <= 0:
        print("edgewise: --time-limit must be a positive number of minutes", file=sys.stderr)
        return EXIT_USAGE
    settings = _settings_from(args)
    try:
        asyncio.run(
            run_calibration(
                settings,
                [Path(p) for p in args.paths or ["."]],
                args.samples,
                seed=args.seed,
                method=args.method,
                time_limit_s=args.time_limit * 60 if args.time_limit is not None else None,
            )
        )
    except (CalibrationError, ModelError) as exc:
        print(f"edgewise: {exc}; nothing written", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    from edgewise.replay import CannotReplay, run_replay

    settings = _settings_from(args)
    if args.backend:
        from dataclasses import replace

        settings = replace(settings, backend=args.backend)
    sources = [Path(p) for p in args.source] if args.source else None
    try:
        replayed = run_replay(args.report_id, settings, model=args.model, sources=sources)
    except CannotReplay as exc:
        print(f"edgewise replay: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(replayed.to_dict(), indent=2) if args.json else replayed.describe())
    return EXIT_OK if replayed.identical else EXIT_FAILED


def cmd_cost(args: argparse.Namespace) -> int:
    """The week and the month from the cost ledger (see report/comparison.py)."""
    from edgewise.paths import state_dir
    from edgewise.report.budget import BudgetTracker
    from edgewise.report.comparison import cost_summary, reads_from, to_csv
    from edgewise.report.cost_text import render
    from edgewise.report.ledger import LOG_NAME, Ledger, ReportLog

    try:
        settings = _settings_from(args)
    except (OSError, ValueError) as exc:
        print(f"edgewise: --settings: {exc}", file=sys.stderr)
        return EXIT_USAGE
    path = Path(args.log) if args.log else state_dir() / LOG_NAME
    if args.log and not path.exists():
        print(f"edgewise: no report log at {path}", file=sys.stderr)
        return EXIT_USAGE
    log = ReportLog(path)
    summary = cost_summary(settings, log.read(reads_from(settings)))
    budget = BudgetTracker(Ledger(log), settings.budget)  # the budget as the server sees it
    summary["budget"] = budget.status()
    if args.json:
        print(json.dumps({**summary, "log": str(path)}, indent=2))
    elif args.csv:
        sys.stdout.write(to_csv(summary))
    else:
        sys.stdout.write(render(summary))
    return EXIT_OK


def add_model_options(parser: argparse.ArgumentParser, json_output: bool = False) -> None:
    """--model and --settings (what ``_settings_from`` reads); --json where the output
    has a JSON form."""
    parser.add_argument("--model", help="model (overrides settings)")
    parser.add_argument("--settings", help="JSON settings file")
    if json_output:
        parser.add_argument("--json", action="store_true")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edgewise", description=__doc__)
    parser.add_argument("--version", action="version", version=f"edgewise {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the language server over stdio")
    add_model_options(serve)
    serve.add_argument("--debug", action="store_true", help="debug logging on stderr")
    serve.set_defaults(func=cmd_serve)

    context = sub.add_parser("context", help="show what a completion would send to the model")
    context.add_argument("file")
    context.add_argument("--line", type=int, required=True, help="1-based line")
    context.add_argument("--column", type=int, required=True, help="1-based column")
    context.add_argument("--budget", type=int, help="token budget (default: contextBudget)")
    context.add_argument("--tokenizer", help="GGUF whose vocabulary counts the tokens")
    context.add_argument(
        "--root",
        action="append",
        help="workspace root for imports (repeatable; default: the file's project folder)",
    )
    add_model_options(context, json_output=True)
    context.set_defaults(func=cmd_context)

    models = sub.add_parser("models", help="list the models available here")
    add_model_options(models, json_output=True)
    models.set_defaults(func=cmd_models)

    doctor = sub.add_parser(
        "doctor",
        help="run a real decode of the model in a worker process: does it run here, how fast",
    )
    add_model_options(doctor, json_output=True)
    doctor.set_defaults(func=cmd_doctor)

    calibrate = sub.add_parser(
        "calibrate",
        help="measure the model on your code and calibrate its confidence",
        description="Samples positions inside lines of your code, deletes the rest of the "
        "line, lets the model complete it, and fits a map from the raw confidence to the "
        "share of suggestions that were right. Stored per model file in the state "
        "directory; every later report of that model uses it.",
    )
    calibrate.add_argument("paths", nargs="*", metavar="PATH", help="code to sample (default .)")
    calibrate.add_argument("--samples", type=int, default=200, help="positions (default 200)")
    calibrate.add_argument("--seed", type=int, default=0, help="sampling seed")
    calibrate.add_argument(
        "--time-limit",
        type=float,
        metavar="MINUTES",
        help="measure for at most this long, then fit on the positions measured by then",
    )
    calibrate.add_argument(
        "--method",
        choices=["auto", "platt", "isotonic"],
        default="auto",
        help="calibration map (auto: the better of the two by cross-validation)",
    )
    add_model_options(calibrate)
    calibrate.set_defaults(func=cmd_calibrate)

    replay = sub.add_parser(
        "replay",
        help="run a report's model call again and say whether the text is identical",
        description="Sends the prompt of report REPORT_ID again with the same model file, "
        "sampler, seed and stop rule (the prompt comes from the prompt store: setting "
        "keepPrompts). Exit codes: 0 identical; 1 different (a diff is shown); 2 it cannot "
        "be replayed (unknown id, prompt not kept, another model file).",
    )
    replay.add_argument("report_id", metavar="REPORT_ID")
    replay.add_argument(
        "--from",
        dest="source",
        action="append",
        metavar="FILE.jsonl",
        help="look in this report file (a batch --report) instead of the report log; repeatable",
    )
    replay.add_argument("--backend", metavar="URL", help="the server a remote report came from")
    add_model_options(replay, json_output=True)
    replay.set_defaults(func=cmd_replay)

    cost = sub.add_parser(
        "cost",
        help="what edgewise cost this week and month, and what hosted tools would",
        description="Reads the cost ledger (every report of every session) and prints this "
        "week and this month: edgewise's energy and amortised hardware, where the tokens "
        "went, the same tokens at the hosted price points of the settings "
        "(costComparison), a flat subscription, and the break-even.",
    )
    cost.add_argument("--settings", help="JSON settings file (pricing, costComparison, budget)")
    cost.add_argument("--log", help="report log to read (default: the state directory's)")
    export = cost.add_mutually_exclusive_group()
    export.add_argument("--json", action="store_true", help="the figures as JSON")
    export.add_argument("--csv", action="store_true", help="the figures as CSV")
    cost.set_defaults(func=cmd_cost)

    # --- refactor: the headless batch mode (edgewise/batch/) ---------------------------
    from edgewise.batch.arguments import add_refactor_parser

    add_refactor_parser(sub)
    # --- end refactor -------------------------------------------------------------------
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
