"""A profile's rules, in the shapes of the Go root package (limits.go): the ranges of frames, sides,
fps and steps a model serves, its default shape, and its cost model. The JSON of each is what
fractal.Range, fractal.Limits and fractal.CostModel decode, and the error messages use the same words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import Invalid
from .spec import MAX_PROMPT_BYTES, Spec, validate_prompt


@dataclass(frozen=True)
class Range:
    """Allowed integers: values when given, otherwise min, min+step, … up to max (step 0 means 1)."""

    min: int
    max: int
    step: int = 0
    values: tuple[int, ...] = ()

    @staticmethod
    def of(*values: int) -> Range:
        """A set of values."""
        return Range(min(values), max(values), values=tuple(values))

    def _step(self) -> int:
        return max(self.step, 1)

    def __contains__(self, v: int) -> bool:
        if self.values:
            return v in self.values
        return self.min <= v <= self.max and (v - self.min) % self._step() == 0

    def smallest(self) -> int:
        return min(self.values) if self.values else self.min

    def largest(self) -> int:
        if self.values:
            return max(self.values)
        return self.min + (self.max - self.min) // self._step() * self._step()

    def count(self) -> int:
        if self.values:
            return len(self.values)
        return 0 if self.max < self.min else (self.max - self.min) // self._step() + 1

    def __str__(self) -> str:
        """What is allowed, as fractal.Range.String says it."""
        s = self._step()
        if self.values:
            return "one of " + ", ".join(str(v) for v in self.values)
        if s == 1:
            return f"between {self.min} and {self.max}"
        if self.min % s == 0:
            return f"a multiple of {s} between {self.min} and {self.largest()}"
        if self.count() <= 6:
            return "one of " + ", ".join(str(v) for v in range(self.min, self.max + 1, s))
        return (
            f"one of {self.min}, {self.min + s}, {self.min + 2 * s}, … up to {self.largest()} "
            f"(every {s} from {self.min})"
        )

    def problem(self, field: str) -> str | None:
        """Why the range allows nothing, or None."""
        if self.values:
            return None if min(self.values) >= 1 else f"{field}: allowed values must be positive"
        if self.min < 1 or self.max < self.min:
            return f"{field}: range must have 1 ≤ min ≤ max, got min {self.min} max {self.max}"
        if self.step < 0:
            return f"{field}: step must not be negative, got {self.step}"
        return None

    def within(self, hard: Range) -> bool:
        """Whether every value this range allows, hard allows too."""
        if self.values:
            return all(v in hard for v in self.values)
        inside = self.min >= hard.min and self.largest() <= hard.max
        return inside and self._step() % hard._step() == 0 and self.min in hard

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"min": self.min, "max": self.max}
        if self.step:
            out["step"] = self.step
        if self.values:
            out["values"] = list(self.values)
        return out


@dataclass(frozen=True)
class Shape:
    """A spec without its prompt and seed: the default a profile fills in."""

    frames: int
    width: int
    height: int
    fps: int
    steps: int

    def to_json(self) -> dict[str, int]:
        return {
            "frames": self.frames,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "steps": self.steps,
        }


@dataclass(frozen=True)
class Limits:
    """The shapes a profile serves (fractal.Limits)."""

    frames: Range
    width: Range
    height: Range
    fps: Range
    steps: Range
    prompt_bytes: int
    default: Shape

    def check(self, spec: Spec) -> None:
        """Raises Invalid naming the first field of spec outside these limits and what it allows."""
        validate_prompt(spec.prompt, self.prompt_bytes)
        for name, r in self.ranges():
            v = getattr(spec, name)
            if v not in r:
                raise Invalid(f"must be {r}, got {v}", field=name)

    def ranges(self) -> tuple[tuple[str, Range], ...]:
        return (
            ("frames", self.frames),
            ("width", self.width),
            ("height", self.height),
            ("fps", self.fps),
            ("steps", self.steps),
        )

    def smallest(self, prompt: str = "x", seed: int = 0) -> Spec:
        """The smallest spec within the limits (the warm-up)."""
        lo = {name: r.smallest() for name, r in self.ranges()}
        return Spec(prompt, seed, **lo)

    def default_spec(self, prompt: str, seed: int) -> Spec:
        d = self.default
        return Spec(prompt, seed, d.frames, d.width, d.height, d.fps, d.steps)

    def problems(self) -> list[str]:
        """What fractal.Limits.Validate would refuse: empty ranges, ranges beyond the hard caps,
        prompt bytes, a default outside."""
        out = [p for name, r in self.ranges() if (p := r.problem("limits." + name))]
        for (name, r), (_, hard) in zip(self.ranges(), HARD.ranges(), strict=True):
            if not r.within(hard):
                out.append(f"limits.{name}: {r} is not within the hard caps ({hard})")
        if not 1 <= self.prompt_bytes <= HARD.prompt_bytes:
            n, cap = self.prompt_bytes, HARD.prompt_bytes
            out.append(f"limits.prompt_bytes: must be between 1 and {cap}, got {n}")
        try:
            self.check(self.default_spec("x", 0))
        except Invalid as e:
            out.append(f"limits.default: {e.field}: {e.message}")
        return out

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: r.to_json() for name, r in self.ranges()}
        out["prompt_bytes"] = self.prompt_bytes
        out["default"] = self.default.to_json()
        return out


# The Go side's hard caps (fractal.HardLimits): every profile's limits lie within them.
HARD = Limits(
    frames=Range(1, 257),
    width=Range(16, 1280, 8),
    height=Range(16, 1280, 8),
    fps=Range(1, 60),
    steps=Range(1, 100),
    prompt_bytes=MAX_PROMPT_BYTES,
    default=Shape(frames=1, width=16, height=16, fps=1, steps=1),
)


@dataclass(frozen=True)
class CostModel:
    """Work of a spec in cost units (fractal.CostModel). With m = frames·width·height / 2^20:
    cost = fixed + steps·(per_step·m + attention·m²) + decode·m."""

    fixed: float
    per_step: float
    attention: float
    decode: float

    def of(self, spec: Spec) -> float:
        m = spec.frames * spec.width * spec.height / (1 << 20)
        return self.fixed + spec.steps * (self.per_step * m + self.attention * m * m) + self.decode * m

    def problems(self) -> list[str]:
        coeffs = (self.fixed, self.per_step, self.attention, self.decode)
        if min(coeffs) < 0 or self.per_step + self.attention == 0:
            return ["cost: coefficients must be non-negative with per_step or attention positive"]
        return []

    def to_json(self) -> dict[str, float]:
        out = {"fixed": self.fixed, "per_step": self.per_step}
        if self.attention:
            out["attention"] = self.attention
        out["decode"] = self.decode
        return out
