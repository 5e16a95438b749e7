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
    profile: str = ""  # "id@version", or empty: the engine's own profile

    def to_json(self) -> dict[str, object]:
        """The wire spec; profile only when set, as fractal.Spec writes it."""
        out: dict[str, object] = asdict(self)
        if not self.profile:
            del out["profile"]
        return out

    @staticmethod
    def from_json(obj: object) -> Spec:
        """Parses a wire spec; a missing or mistyped field is a 400 naming it."""
        if not isinstance(obj, dict):
            raise Invalid("spec must be an object", field="spec")
        for name in ("prompt", "profile"):
            if not isinstance(obj.get(name, ""), str):
                raise Invalid("must be a string", field=name)
        values: dict[str, object] = {"prompt": obj.get("prompt", ""), "profile": obj.get("profile", "")}
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


def validate_prompt(prompt: str, max_bytes: int = MAX_PROMPT_BYTES) -> None:
    """1–max_bytes bytes of UTF-8, no control characters, no whitespace but space."""
    try:
        data = prompt.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid("must be valid UTF-8", field="prompt") from None
    if not data:
        raise Invalid(f"must not be empty (1–{max_bytes} bytes of UTF-8)", field="prompt")
    if len(data) > max_bytes:
        raise Invalid(f"must be at most {max_bytes} bytes, got {len(data)}", field="prompt")
    at = 0
    for ch in prompt:
        if ch != " " and (ch.isspace() or unicodedata.category(ch) == "Cc"):
            raise Invalid(
                "must not contain control characters or whitespace other than space "
                f"(found U+{ord(ch):04X} at byte {at})",
                field="prompt",
            )
        at += len(ch.encode("utf-8"))
