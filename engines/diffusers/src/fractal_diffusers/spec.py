"""Spec: one generation, parsed from the wire and checked against a profile's limits."""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass

from .errors import Invalid

MAX_PROMPT_BYTES = 1000
MAX_SEED = (1 << 64) - 1
FIELDS = ("prompt", "seed", "frames", "width", "height", "fps", "steps")


@dataclass(frozen=True)
class Spec:
    prompt: str
    seed: int
    frames: int
    width: int
    height: int
    fps: int
    steps: int

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @staticmethod
    def from_json(obj: object) -> Spec:
        """Parses a wire spec; a missing or mistyped field is a 400 naming it."""
        if not isinstance(obj, dict):
            raise Invalid("spec must be an object", field="spec")
        if not isinstance(obj.get("prompt", ""), str):
            raise Invalid("must be a string", field="prompt")
        values: dict[str, object] = {"prompt": obj.get("prompt", "")}
        for name in FIELDS[1:]:
            v = obj.get(name, 0)
            if not isinstance(v, int) or isinstance(v, bool):
                raise Invalid(f"must be an integer, got {v!r}", field=name)
            values[name] = v
        seed = values["seed"]
        assert isinstance(seed, int)
        if not 0 <= seed <= MAX_SEED:
            raise Invalid(f"must be a uint64, got {seed}", field="seed")
        return Spec(**values)  # type: ignore[arg-type]


def validate_prompt(prompt: str) -> None:
    """1–1000 bytes of UTF-8, no control characters, no whitespace but space."""
    n = len(prompt.encode("utf-8", "surrogatepass"))
    if n == 0:
        raise Invalid(f"must not be empty (1–{MAX_PROMPT_BYTES} bytes of UTF-8)", field="prompt")
    if n > MAX_PROMPT_BYTES:
        raise Invalid(f"must be at most {MAX_PROMPT_BYTES} bytes, got {n}", field="prompt")
    for ch in prompt:
        if 0xD800 <= ord(ch) <= 0xDFFF:
            raise Invalid("must be valid UTF-8", field="prompt")
        if ch != " " and (ch.isspace() or unicodedata.category(ch) == "Cc"):
            raise Invalid(
                f"must not contain control characters or whitespace other than space (found U+{ord(ch):04X})",
                field="prompt",
            )
