"""Evaluation on the held-out split: intents (P/R/F1, confusion matrix, accuracy per
language), entities (F1 on type+value), language identification, latency."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from .data import INTENTS, LANGUAGES, Example, load_dir
from .engine import NluEngine

REFERENCE_DATE = date(2026, 3, 4)
TIME_ZONE = "Europe/Madrid"
_WEEKEND = re.compile(r"fin\s*de|finde|week-?end|fim\s+de|fds", re.I)


def gold_entities(e: Example) -> Counter[tuple[str, str]]:
    """Gold (type, value) pairs; a weekend check-in implies its Sunday check-out (conventions)."""
    gold: Counter[tuple[str, str]] = Counter((g.type, str(g.value)) for g in e.entities)
    has_out = any(g.type == "check_out" for g in e.entities)
    for g in e.entities:
        if g.type == "check_in" and not has_out and _WEEKEND.search(g.text):
            try:
                d = date.fromisoformat(str(g.value)) + timedelta(days=2)
            except ValueError:
                continue
            gold[("check_out", d.isoformat())] += 1
    return gold


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def evaluate(engine: NluEngine, examples: list[Example]) -> dict[str, Any]:
    t0 = time.perf_counter()
    results = engine.parse_many(
        [e.text for e in examples],
        reference_dates=[REFERENCE_DATE] * len(examples),
        time_zones=[TIME_ZONE] * len(examples),
    )
    elapsed = time.perf_counter() - t0
    labels = list(INTENTS)
    confusion = {g: dict.fromkeys(labels, 0) for g in labels}
    per_lang: dict[str, list[int]] = {lang: [0, 0] for lang in LANGUAGES}
    lang_ok = 0
    ent_tp: Counter[str] = Counter()
    ent_fp: Counter[str] = Counter()
    ent_fn: Counter[str] = Counter()
    errors: list[dict[str, Any]] = []
    # Entities are scored on the types the data set annotates: a type with no gold labels
    # (person, complaint, extra_nights...) can't be judged here and has its own unit tests.
    annotated = {t for ex in examples for (t, _) in gold_entities(ex)}
    for ex, res in zip(examples, results, strict=True):
        if ex.intent in confusion and res.intent in confusion[ex.intent]:
            confusion[ex.intent][res.intent] += 1
        pl = per_lang.setdefault(ex.language, [0, 0])
        pl[0] += int(res.intent == ex.intent)
        pl[1] += 1
        lang_ok += int(res.language == ex.language)
        gold = gold_entities(ex)
        pred: Counter[tuple[str, str]] = Counter(
            (p.type, str(p.value)) for p in res.entities if p.type in annotated
        )
        for key in gold | pred:
            tp = min(gold[key], pred[key])
            ent_tp[key[0]] += tp
            ent_fp[key[0]] += pred[key] - tp
            ent_fn[key[0]] += gold[key] - tp
        if res.intent != ex.intent or gold != pred:
            errors.append(
                {
                    "text": ex.text,
                    "language": ex.language,
                    "gold_intent": ex.intent,
                    "pred_intent": res.intent,
                    "confidence": round(res.confidence, 3),
                    "missing_entities": sorted(f"{t}={v}" for (t, v) in (gold - pred)),
                    "extra_entities": sorted(f"{t}={v}" for (t, v) in (pred - gold)),
                }
            )
    per_intent = {}
    for lab in labels:
        tp = confusion[lab][lab]
        fp = sum(confusion[g][lab] for g in labels if g != lab)
        fn = sum(confusion[lab][p] for p in labels if p != lab)
        per_intent[lab] = {**_prf(tp, fp, fn), "support": sum(confusion[lab].values())}
    ent_types = sorted(set(ent_tp) | set(ent_fp) | set(ent_fn))
    per_entity = {
        t: {**_prf(ent_tp[t], ent_fp[t], ent_fn[t]), "support": ent_tp[t] + ent_fn[t]}
        for t in ent_types
    }
    total = len(examples)
    correct = sum(v[0] for v in per_lang.values())
    return {
        "model_version": engine.version,
        "data_hash": engine.data_hash,
        "threshold": engine.threshold,
        "examples": total,
        "intent_accuracy": round(correct / total, 4) if total else 0.0,
        "intent_accuracy_by_language": {
            k: round(v[0] / v[1], 4) if v[1] else 0.0 for k, v in per_lang.items()
        },
        "examples_by_language": {k: v[1] for k, v in per_lang.items()},
        "language_id_accuracy": round(lang_ok / total, 4) if total else 0.0,
        "intents": per_intent,
        "intent_macro_f1": round(sum(v["f1"] for v in per_intent.values()) / len(per_intent), 4),
        "entity_micro": _prf(sum(ent_tp.values()), sum(ent_fp.values()), sum(ent_fn.values())),
        "entities": per_entity,
        "confusion_matrix": {
            "labels": labels,
            "rows": [[confusion[g][p] for p in labels] for g in labels],
        },
        "parse_ms_per_message": round(1000 * elapsed / max(1, total), 3),
        "errors": errors,
    }


def format_report(r: dict[str, Any]) -> str:
    lines = [
        f"model {r['model_version']}  threshold {r['threshold']:.2f}  examples {r['examples']}",
        f"intent accuracy {r['intent_accuracy']:.4f}  "
        + "  ".join(
            f"{k} {v:.4f} (n={r['examples_by_language'][k]})"
            for k, v in r["intent_accuracy_by_language"].items()
        ),
        f"language id accuracy {r['language_id_accuracy']:.4f}  entity F1 {r['entity_micro']['f1']:.4f} "
        f"(P {r['entity_micro']['precision']:.4f} R {r['entity_micro']['recall']:.4f})  "
        f"{r['parse_ms_per_message']:.2f} ms/message",
        "",
        "| intent | precision | recall | F1 | support |",
        "|---|---:|---:|---:|---:|",
    ]
    for k, v in r["intents"].items():
        lines.append(
            f"| {k} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |"
        )
    lines += ["", "| entity | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
    for k, v in r["entities"].items():
        lines.append(
            f"| {k} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |"
        )
    labels = r["confusion_matrix"]["labels"]
    abbrev = [lab[:6] for lab in labels]
    lines += [
        "",
        "confusion matrix (rows = gold, columns = predicted):",
        "          " + " ".join(f"{a:>6}" for a in abbrev),
    ]
    for lab, row in zip(labels, r["confusion_matrix"]["rows"], strict=True):
        lines.append(f"{lab[:9]:>9} " + " ".join(f"{n:>6}" if n else "     ." for n in row))
    return "\n".join(lines)


def run(engine: NluEngine, test_dir: Path, out: Path | None) -> dict[str, Any]:
    examples = load_dir(test_dir)
    report = evaluate(engine, examples)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return report
