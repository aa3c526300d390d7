"""Pin the production overlay's images by digest, and refuse to ship a tag-only image.

    .venv/bin/python deploy/k8s/pin_images.py set posada/nlp=registry.example.com/posada/nlp@sha256:<64 hex> ...
    .venv/bin/python deploy/k8s/pin_images.py check      # exit 1 while any image is tag-only

A tag can be moved; a digest names exactly the bytes that were tested. The release pipeline
pushes an image, takes the digest the registry answers with, runs `set` for that image (one
service at a time, like every release), and runs `check` before it applies the overlay, so a
production apply never pulls an image by tag. `set` rewrites only the `images:` block of
overlays/production/kustomization.yaml (kustomize's `digest:` field instead of `newTag:`);
every other line, comments included, stays as it is. The base names every image it uses
(the five services and `envoyproxy/envoy`), so each has an entry to pin.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import yaml

OVERLAY = Path(__file__).resolve().parent / "overlays" / "production" / "kustomization.yaml"
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
REF = re.compile(r"^(?P<name>[^@\s]+)@(?P<digest>sha256:[0-9a-f]{64})$")


def load_images(path: Path) -> list[dict[str, Any]]:
    return list(yaml.safe_load(path.read_text()).get("images", []))


def unpinned(path: Path = OVERLAY) -> list[str]:
    """The images of the overlay that are not pinned by a digest."""
    return [
        f"{i['name']} ({i.get('newName', i['name'])}:{i.get('newTag', 'latest')})"
        for i in load_images(path)
        if not DIGEST.match(str(i.get("digest", "")))
    ]


def _render(images: list[dict[str, Any]]) -> str:
    lines = ["images:"]
    for image in images:
        lines.append(f"  - name: {image['name']}")
        for key in ("newName", "newTag", "digest"):
            if key in image:
                value = str(image[key])
                lines.append(f'    {key}: "{value}"' if key == "newTag" else f"    {key}: {value}")
    return "\n".join(lines) + "\n"


def set_digests(pins: dict[str, str], path: Path = OVERLAY) -> None:
    """`pins`: image name in the base -> `registry/repo@sha256:...`; tags give way to digests."""
    images = load_images(path)
    known = {i["name"] for i in images}
    for name, ref in pins.items():
        match = REF.match(ref)
        if match is None:
            raise ValueError(f"{name}: {ref!r} is not <repository>@sha256:<64 hex digits>")
        if name not in known:
            raise ValueError(f"{name}: not an image of the overlay ({', '.join(sorted(known))})")
    for image in images:
        if image["name"] in pins:
            match = REF.match(pins[image["name"]])
            assert match
            image["newName"] = match["name"]
            image["digest"] = match["digest"]
            image.pop("newTag", None)
    text = path.read_text()
    block = re.compile(r"^images:\n(?:[ \t]+.*\n|\n)*?(?=^\S)", re.M)
    if not block.search(text):
        raise ValueError(f"no top-level `images:` block in {path}")
    path.write_text(block.sub(lambda _m: _render(images), text, count=1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="action", required=True)
    setter = sub.add_parser("set", help="pin images: NAME=REPOSITORY@sha256:DIGEST ...")
    setter.add_argument("pins", nargs="+")
    checker = sub.add_parser("check", help="exit 1 while any production image is tag-only")
    for p in (setter, checker):
        p.add_argument("--overlay", type=Path, default=OVERLAY, help="kustomization.yaml to use")
    args = ap.parse_args(argv)
    if args.action == "set":
        try:
            pins = dict(p.split("=", 1) for p in args.pins)
            set_digests(pins, args.overlay)
        except ValueError as exc:
            print(f"pin_images: {exc}", file=sys.stderr)
            return 2
        print(f"pinned {', '.join(pins)} in {args.overlay}")
        return 0
    missing = unpinned(args.overlay)
    if missing:
        print("tag-only images (pin them with `set` before a production apply):", file=sys.stderr)
        for line in missing:
            print(f"  {line}", file=sys.stderr)
        return 1
    print("every production image is pinned by digest")
    return 0


if __name__ == "__main__":
    sys.exit(main())
