"""Intent classifier: a spaCy ``textcat`` whose model is a sparse linear layer over hashed
word uni/bigrams and character n-grams (registered as ``posada.CharNgramBOW.v1``).

Why: spaCy's stock ``TextCatBOW`` uses word n-grams only, so one typo ("reserbar", "dispo")
makes a word unknown. Adding character 3-5-grams of each word keeps most of the signal, at
the same speed (a sparse dot product, well under a millisecond per message).
The doc the classifier sees is ``textnorm.normalise_for_intent(text)`` prefixed with a
language token, so one multilingual pipeline serves es/en/pt.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import spacy
from spacy.language import Language
from spacy.ml.models.textcat import resize_and_set_ref, resize_linear_weighted
from spacy.strings import hash_string  # type: ignore[attr-defined]
from spacy.tokens import Doc
from spacy.training import Example as SpacyExample
from spacy.util import minibatch
from thinc.api import (
    Logistic,
    Model,
    SparseLinear_v2,
    chain,
    resizable,
    softmax_activation,
    with_cpu,
)

NEG_VALUE = -5000


def _doc_features(text: str, ngram_size: int, char_min: int, char_max: int, char_weight: float):
    words = text.split()
    feats: dict[int, float] = {}

    def add(key: str, v: float) -> None:
        k = hash_string(key)
        feats[k] = feats.get(k, 0.0) + v

    for i, w in enumerate(words):
        add("w|" + w, 1.0)
        for n in range(2, ngram_size + 1):
            if i + n <= len(words):
                add("n|" + "|".join(words[i : i + n]), 1.0)
        if w.startswith("__"):
            continue
        padded = f"<{w}>"
        for n in range(char_min, char_max + 1):
            for j in range(len(padded) - n + 1):
                add("c|" + padded[j : j + n], char_weight)
    if not feats:
        add("w|<empty>", 1.0)
    return feats


_FEATURE_CACHE: dict[tuple[str, int, int, int, float], tuple[Any, Any]] = {}
_CACHE_MAX = 20_000
_CACHE_ON = False  # only while training: every epoch sees the same texts again


def _cached_features(text: str, a: dict[str, Any]) -> tuple[Any, Any]:
    key = (text, a["ngram_size"], a["char_min"], a["char_max"], a["char_weight"])
    hit = _FEATURE_CACHE.get(key) if _CACHE_ON else None
    if hit is None:
        feats = _doc_features(text, *key[1:])
        hit = (
            np.fromiter(feats.keys(), dtype="uint64", count=len(feats)),
            np.fromiter(feats.values(), dtype="float32", count=len(feats)),
        )
        if _CACHE_ON:
            if len(_FEATURE_CACHE) >= _CACHE_MAX:
                _FEATURE_CACHE.clear()
            _FEATURE_CACHE[key] = hit
    return hit


def _extract_forward(model: Model, docs: Sequence[Doc], is_train: bool):
    a = model.attrs
    keys_l, vals_l = [], []
    for doc in docs:
        k, v = _cached_features(doc.text, a)
        keys_l.append(k)
        vals_l.append(v)
    lengths = model.ops.asarray([len(k) for k in keys_l], dtype="int32")
    keys = np.concatenate(keys_l) if keys_l else np.zeros((0,), dtype="uint64")
    vals = np.concatenate(vals_l) if vals_l else np.zeros((0,), dtype="float32")

    def backprop(dY: Any) -> list[Any]:
        return []

    return (keys, vals, lengths), backprop


@spacy.registry.architectures("posada.CharNgramBOW.v1")
def build_char_ngram_bow(
    exclusive_classes: bool = True,
    ngram_size: int = 2,
    char_min: int = 3,
    char_max: int = 5,
    char_weight: float = 0.3,
    length: int = 262144,
    nO: int | None = None,
) -> Model:
    length = 2 ** (length - 1).bit_length()
    extract: Model = Model(
        "posada_char_ngrams",
        _extract_forward,
        attrs={
            "ngram_size": ngram_size,
            "char_min": char_min,
            "char_max": char_max,
            "char_weight": char_weight,
        },
    )
    sparse_linear = SparseLinear_v2(nO=nO, length=length)
    fill_defaults = {"b": NEG_VALUE, "W": 0}
    resizable_layer: Model = resizable(
        sparse_linear, resize_layer=partial(resize_linear_weighted, fill_defaults=fill_defaults)
    )
    output = softmax_activation() if exclusive_classes else Logistic()
    model: Model = chain(
        with_cpu(chain(extract, resizable_layer), extract.ops), with_cpu(output, output.ops)
    )
    if nO is not None:
        model.set_dim("nO", nO)
    model.set_ref("output_layer", sparse_linear)
    model.attrs["multi_label"] = not exclusive_classes
    model.attrs["resize_output"] = partial(resize_and_set_ref, resizable_layer=resizable_layer)
    return model


ARCHITECTURES: dict[str, dict[str, Any]] = {
    # The chosen one (see docs/adr-nlp-engine.md for the measurements).
    "charbow": {
        "@architectures": "posada.CharNgramBOW.v1",
        "exclusive_classes": True,
        "ngram_size": 2,
        "char_min": 3,
        "char_max": 5,
        "char_weight": 0.3,
        "length": 65536,
    },
    # spaCy's stock bag of words (word uni/bigrams).
    "bow": {
        "@architectures": "spacy.TextCatBOW.v3",
        "exclusive_classes": True,
        "ngram_size": 2,
        "no_output_layer": False,
        "length": 65536,
    },
    # spaCy's ensemble: bag of words + a CNN over hashed NORM/PREFIX/SUFFIX/SHAPE embeddings.
    "ensemble": {
        "@architectures": "spacy.TextCatEnsemble.v2",
        "linear_model": {
            "@architectures": "spacy.TextCatBOW.v3",
            "exclusive_classes": True,
            "ngram_size": 2,
            "no_output_layer": False,
            "length": 262144,
        },
        "tok2vec": {
            "@architectures": "spacy.Tok2Vec.v2",
            "embed": {
                "@architectures": "spacy.MultiHashEmbed.v2",
                "width": 64,
                "rows": [2000, 1000, 1000, 1000],
                "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"],
                "include_static_vectors": False,
            },
            "encode": {
                "@architectures": "spacy.MaxoutWindowEncoder.v2",
                "width": 64,
                "window_size": 1,
                "maxout_pieces": 3,
                "depth": 2,
            },
        },
    },
}

_KEYBOARD = "qwertyuiopasdfghjklzxcvbnm"


def typo(word: str, rng: random.Random) -> str:
    """One random edit: drop, double, swap or replace a letter."""
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.randrange(4)
    if op == 0:
        return word[:i] + word[i + 1 :]
    if op == 1:
        return word[:i] + word[i] + word[i:]
    if op == 2:
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    return word[:i] + rng.choice(_KEYBOARD) + word[i + 1 :]


def augment(text: str, rng: random.Random) -> str:
    words = text.split()
    if not words:
        return text
    out = []
    for w in words:
        r = rng.random()
        if r < 0.15:
            out.append(typo(w, rng))
        elif r < 0.20 and len(words) > 3 and not w.startswith("__"):
            continue  # a dropped word
        else:
            out.append(w)
    return " ".join(out)


def classifier_input(normalised: str, language: str | None) -> str:
    return f"__{language} {normalised}" if language else normalised


def build_pipeline(labels: Sequence[str], arch: str = "charbow") -> Language:
    nlp = spacy.blank("xx")
    nlp.add_pipe("textcat", config={"model": ARCHITECTURES[arch], "threshold": 0.0})
    textcat = nlp.get_pipe("textcat")
    for label in labels:
        textcat.add_label(label)  # type: ignore[attr-defined]
    return nlp


def train_pipeline(
    items: Sequence[tuple[str, str]],
    labels: Sequence[str],
    *,
    arch: str = "charbow",
    epochs: int = 20,
    seed: int = 13,
    augment_copies: int = 2,
    dropout: float = 0.2,
    batch_size: int = 64,
    log: Callable[[str], None] = print,
) -> Language:
    """Train on (classifier_input, intent) pairs with a fixed seed."""
    spacy.util.fix_random_seed(seed)
    rng = random.Random(seed)
    nlp = build_pipeline(labels, arch)
    data = list(items)
    for _ in range(augment_copies):
        data.extend((augment(t, rng), y) for t, y in items)

    def to_example(t: str, y: str) -> SpacyExample:
        doc = nlp.make_doc(t)
        return SpacyExample.from_dict(doc, {"cats": {lab: float(lab == y) for lab in labels}})

    global _CACHE_ON
    examples = [to_example(t, y) for t, y in data]
    _CACHE_ON = True
    try:
        return _train_loop(nlp, examples, epochs, batch_size, dropout, rng, log)
    finally:
        _CACHE_ON = False
        _FEATURE_CACHE.clear()


def _train_loop(
    nlp: Language,
    examples: list[SpacyExample],
    epochs: int,
    batch_size: int,
    dropout: float,
    rng: random.Random,
    log: Callable[[str], None],
) -> Language:
    optimizer = nlp.initialize(lambda: examples[:200])
    t0 = time.monotonic()
    for epoch in range(1, epochs + 1):
        rng.shuffle(examples)
        losses: dict[str, float] = {}
        for batch in minibatch(examples, size=batch_size):
            nlp.update(batch, sgd=optimizer, drop=dropout, losses=losses)
        if epoch == 1 or epoch % 5 == 0 or epoch == epochs:
            log(
                f"  epoch {epoch:>2}/{epochs} loss={losses.get('textcat', 0.0):.4f} ({time.monotonic() - t0:.1f}s)"
            )
    return nlp


def predict(nlp: Language, texts: Sequence[str]) -> list[dict[str, float]]:
    return [dict(doc.cats) for doc in nlp.pipe(texts, batch_size=256)]


def save(nlp: Language, path: Path) -> None:
    nlp.to_disk(path)


def load(path: Path) -> Language:
    return spacy.load(path)
