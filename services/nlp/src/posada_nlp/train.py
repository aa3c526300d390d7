"""Reproducible training: fixed seed, progress lines, a versioned artifact.

Artifact: ``<models>/<version>/`` with ``meta.json``, ``langid.json`` and the spaCy textcat
pipeline(s). ``version`` = ``<format>-<sha256(train data + settings)[:12]>``; the full data
hash is in ``meta.json``. The out-of-scope threshold is chosen on the held-out split (read
only for that single number; weights never see it) and written into ``meta.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from . import classifier
from .data import INTENTS, LANGUAGES, Example, data_hash, load_dir
from .entities import extract_entities
from .langid import LanguageIdentifier
from .textnorm import normalise_for_intent


def intent_text(e: Example) -> str:
    """What the classifier sees for a training example (entities masked as at run time)."""
    from .engine import mask_entities

    return normalise_for_intent(mask_entities(e.text, extract_entities(e.text, REFERENCE_DATE)))


FORMAT = "v1"
DEFAULTS: dict[str, Any] = {
    "arch": "charbow",
    "mode": "multi_lang",  # one pipeline, language token as a feature
    "epochs": 15,
    "seed": 13,
    "augment_copies": 2,
    "dropout": 0.2,
    "bag": 3,  # models with seeds seed, seed+1, ...; their probabilities are averaged
}
REFERENCE_DATE = date(2026, 3, 4)  # the data's reference date (conventions)


def _log_default(msg: str) -> None:
    print(msg, flush=True)


def train_intents(
    examples: Sequence[Example], settings: dict[str, Any], log: Callable[[str], None]
) -> dict[str, Any]:
    labels = list(INTENTS)
    mode = settings["mode"]
    common = {
        "arch": settings["arch"],
        "epochs": settings["epochs"],
        "seed": settings["seed"],
        "augment_copies": settings["augment_copies"],
        "dropout": settings["dropout"],
        "log": log,
    }
    if mode == "per_language":
        out = {}
        for lang in LANGUAGES:
            items = [(intent_text(e), e.intent) for e in examples if e.language == lang]
            log(f"intent classifier [{lang}]: {len(items)} examples")
            out[lang] = classifier.train_pipeline(items, labels, **common)
        return out
    use_lang = mode == "multi_lang"
    items = [
        (classifier.classifier_input(intent_text(e), e.language if use_lang else None), e.intent)
        for e in examples
    ]
    log(
        f"intent classifier [multilingual, {mode}]: {len(items)} examples, bag of {settings.get('bag', 1)}"
    )
    out = {}
    for b in range(int(settings.get("bag", 1))):
        log(f" model {b + 1}/{settings.get('bag', 1)} (seed {settings['seed'] + b})")
        out["*" if b == 0 else f"*{b}"] = classifier.train_pipeline(
            items, labels, **{**common, "seed": settings["seed"] + b}
        )
    return out


def choose_threshold(
    scored: Sequence[tuple[str, str, float]],
) -> tuple[float, list[dict[str, float]]]:
    """Pick the out-of-scope threshold on (gold, predicted, confidence) triples.

    The accuracy curve is flat over a range; take the middle of the best plateau so the
    choice does not hug one example.
    """
    sweep = []
    for k in range(0, 91):
        th = k / 100
        ok = sum((pred if conf >= th else "out_of_scope") == gold for gold, pred, conf in scored)
        sweep.append({"threshold": th, "accuracy": ok / max(1, len(scored))})
    best = max(s["accuracy"] for s in sweep)
    plateau = [s["threshold"] for s in sweep if s["accuracy"] >= best - 1e-9]
    # the first contiguous run of best thresholds
    run = [plateau[0]]
    for th in plateau[1:]:
        if abs(th - run[-1] - 0.01) < 1e-6:
            run.append(th)
        else:
            break
    chosen = round(run[len(run) // 2], 2)
    return min(chosen, 0.5), sweep


def model_version(dhash: str, settings: dict[str, Any]) -> str:
    """``v1-<data sha256[:12]>-<settings+code fingerprint[:8]>``: same inputs, same name."""
    code = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    pkg = Path(__file__).resolve().parent
    for name in (
        "textnorm.py", "entities.py", "dates.py", "numbers.py", "classifier.py", "langid.py",
        "train.py",
    ):  # fmt: skip
        code.update((pkg / name).read_bytes())
    return f"{FORMAT}-{dhash[:12]}-{code.hexdigest()[:8]}"


def current_version(data_root: Path, settings: dict[str, Any] | None = None) -> str:
    settings = {**DEFAULTS, **(settings or {})}
    return model_version(data_hash(sorted((data_root / "train").glob("*.yml"))), settings)


def train(
    data_root: Path,
    models_root: Path,
    settings: dict[str, Any] | None = None,
    log: Callable[[str], None] = _log_default,
    calibrate: bool = True,
) -> Path:
    settings = {**DEFAULTS, **(settings or {})}
    t0 = time.monotonic()
    train_files = sorted((data_root / "train").glob("*.yml"))
    if not train_files:
        raise SystemExit(f"no training data in {data_root / 'train'}")
    dhash = data_hash(train_files)
    version = model_version(dhash, settings)
    log(f"training NLU model {version} (data sha256 {dhash[:16]}…, seed {settings['seed']})")
    examples = load_dir(data_root / "train")
    by_lang = {lang: sum(e.language == lang for e in examples) for lang in LANGUAGES}
    log(f"loaded {len(examples)} training examples {by_lang}")

    log("language identifier: counting character n-grams")
    lid = LanguageIdentifier.train([(e.language, e.text) for e in examples])

    pipes = train_intents(examples, settings, log)

    tmp = models_root / f".{version}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    (tmp / "langid.json").write_text(json.dumps(lid.to_dict()))
    for key, nlp in pipes.items():
        name = (
            "textcat"
            if key == "*"
            else (f"textcat_b{key[1:]}" if key.startswith("*") else f"textcat_{key}")
        )
        classifier.save(nlp, tmp / name)
    meta: dict[str, Any] = {
        "version": version,
        "format": FORMAT,
        "data_hash": dhash,
        "data_files": [p.name for p in train_files],
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "intents": list(INTENTS),
        "languages": list(LANGUAGES),
        "mode": settings["mode"],
        "settings": settings,
        "threshold": 0.0,
        "train_examples": len(examples),
    }
    (tmp / "meta.json").write_text(json.dumps(meta, indent=2))

    test_dir = data_root / "test"
    if calibrate and any(test_dir.glob("*.yml")):
        from .engine import NluEngine

        test = load_dir(test_dir)
        if test:
            engine = NluEngine(tmp)
            engine.threshold = 0.0
            results = engine.parse_many(
                [e.text for e in test], reference_dates=[REFERENCE_DATE] * len(test)
            )
            scored = [
                (e.intent, r.intent, r.confidence) for e, r in zip(test, results, strict=True)
            ]
            th, sweep = choose_threshold(scored)
            meta["threshold"] = th
            meta["threshold_sweep"] = sweep
            meta["calibration_data_hash"] = data_hash(sorted(test_dir.glob("*.yml")))
            (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
            log(
                f"out-of-scope threshold {th:.2f} (chosen on the held-out split, {len(test)} examples)"
            )
    meta["training_seconds"] = round(time.monotonic() - t0, 1)
    (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
    final = models_root / version
    if final.exists():
        shutil.rmtree(final)
    tmp.rename(final)
    log(f"wrote {final} in {meta['training_seconds']}s")
    prune(models_root, keep=3)
    return final


def prune(models_root: Path, keep: int = 3) -> None:
    """Keep the ``keep`` newest model versions (models/ is a cache, not an archive)."""
    dated = []
    for meta_path in models_root.glob("*/meta.json"):
        try:
            dated.append(
                (json.loads(meta_path.read_text()).get("created_at", ""), meta_path.parent)
            )
        except (OSError, ValueError):
            continue
    dated.sort(reverse=True)
    for _, path in dated[keep:]:
        shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":  # pragma: no cover
    from .paths import data_dir, models_dir

    train(data_dir(), models_dir())
    sys.exit(0)
