"""``hotel-nlp``: parse (JSON lines in/out), train, eval. A public interface: keep it stable."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .paths import SERVICE_DIR, data_dir, models_dir


def _load_engine(args: argparse.Namespace):
    from .backend import load_backend

    return load_backend(Path(args.models) if args.models else models_dir(), train_if_missing=True)


def cmd_parse(args: argparse.Namespace) -> int:
    try:
        ref = date.fromisoformat(args.reference_date)
    except ValueError:
        print(
            f"hotel-nlp: --reference-date must be YYYY-MM-DD, got {args.reference_date!r}",
            file=sys.stderr,
        )
        return 2
    try:
        ZoneInfo(args.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        print(f"hotel-nlp: unknown --timezone {args.timezone!r}", file=sys.stderr)
        return 2
    engine = _load_engine(args)
    out = sys.stdout
    for n, line in enumerate(sys.stdin, 1):
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
            text = obj["text"] if isinstance(obj, dict) else None
            if not isinstance(text, str):
                raise ValueError("missing string field 'text'")
        except (ValueError, KeyError) as e:
            print(f"hotel-nlp: line {n}: {e}", file=sys.stderr)
            out.write(json.dumps({"error": f"line {n}: invalid input: {e}"}) + "\n")
            continue
        res = engine.parse(
            text,
            language_hint=str(obj.get("language", "") or obj.get("language_hint", "") or ""),
            reference_date=ref,
            time_zone=args.timezone,
            expected_intent=str(obj.get("expected_intent", "") or ""),
        )
        out.write(json.dumps(res.as_dict(), ensure_ascii=False) + "\n")
        out.flush()
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from .train import current_version, train

    settings = {}
    if args.seed is not None:
        settings["seed"] = args.seed
    if args.mode:
        settings["mode"] = args.mode
    if args.arch:
        settings["arch"] = args.arch
    data = Path(args.data) if args.data else data_dir()
    models = Path(args.models) if args.models else models_dir()
    if args.if_missing:
        version = current_version(data, settings)
        if (models / version / "meta.json").is_file():
            print(f"model {version} is up to date in {models}; nothing to train")
            return 0
    train(data, models, settings)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluate import format_report, run

    engine = _load_engine(args)
    test_dir = (Path(args.data) if args.data else data_dir()) / args.split
    default_out = "latest.json" if args.split == "test" else f"{args.split}.json"
    out = Path(args.output) if args.output else SERVICE_DIR / "eval" / default_out
    report = run(engine, test_dir, out)
    print(format_report(report))
    if args.show_errors:
        for e in report["errors"]:
            print(json.dumps(e, ensure_ascii=False))
    print(f"\nwrote {out}")
    return 0


def cmd_export_lexicon(args: argparse.Namespace) -> int:
    from .lexicon import export

    out = export(Path(args.output) if args.output else data_dir() / "lexicon" / "synonyms.yml")
    print(f"wrote {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="hotel-nlp", description="Posada NLU: parse, train, eval")
    p.add_argument("--models", help="model folder (default services/nlp/models or NLP_MODEL_DIR)")
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("parse", help='parse JSON lines {"text": ...} from stdin')
    pp.add_argument(
        "--reference-date", required=True, help="YYYY-MM-DD that relative dates resolve against"
    )
    pp.add_argument("--timezone", default="Europe/Madrid", help="IANA zone of the hotel")
    pp.set_defaults(func=cmd_parse)
    pt = sub.add_parser("train", help="train and write models/<version>/")
    pt.add_argument("--data", help="data folder with train/ and test/ (default services/nlp/data)")
    pt.add_argument("--seed", type=int)
    pt.add_argument(
        "--if-missing",
        action="store_true",
        help="do nothing when the model for the current data and code already exists",
    )
    pt.add_argument("--mode", choices=["multi_lang", "multi", "per_language"])
    pt.add_argument("--arch", choices=["charbow", "bow", "ensemble"])
    pt.set_defaults(func=cmd_train)
    pe = sub.add_parser("eval", help="evaluate on the held-out split")
    pe.add_argument("--data")
    pe.add_argument(
        "--split",
        choices=["test", "challenge"],
        default="test",
        help="test = held-out split (default); challenge = unseen-style messages (eval/challenge.json)",
    )
    pe.add_argument(
        "--output", help="JSON report path (default services/nlp/eval/latest.json, or <split>.json)"
    )
    pe.add_argument("--show-errors", action="store_true")
    pe.set_defaults(func=cmd_eval)
    px = sub.add_parser("export-lexicon", help="write entity synonyms as Rasa synonym blocks")
    px.add_argument("--output", help="default services/nlp/data/lexicon/synonyms.yml")
    px.set_defaults(func=cmd_export_lexicon)
    args = p.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
