"""Cross-class tolerance: how far honest execution classes lie apart, and how far cheap cheats lie.

Every step of one trajectory is recomputed from the engine's own state t-1 under variants of
the execution (other thread counts, other attention backends: honest) and under cheats (the
transformer's linear weights cast through a cheaper dtype, other weights of the same architecture,
a skipped step). Each recomputation is measured as a checker across classes measures it
(docs/engines.md, "Determinism classes"): with x the state t-1, y the recomputed state t and ŷ the
engine's own,

    error = ‖ŷ − y‖₂ / ‖ŷ − x‖₂        cosine = cos(ŷ − x, y − x)

The suggested thresholds lie between the honest floor and the cheapest cheat, geometrically, and
only when the two are at least SEPARATION apart; otherwise the profile cannot be checked across
classes on this evidence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .engine import Engine
from .spec import Spec

SEPARATION = 10.0  # the cheapest cheat must err at least this many times more than honest classes
MIN_FRAME_LEVELS = 2  # decoded pixels may always differ by rounding across classes


@dataclass
class Deviation:
    error: float
    cosine: float

    def to_json(self) -> dict[str, float]:
        return {"max_error": self.error, "min_cosine": self.cosine}


def deviation(prev: np.ndarray, got: np.ndarray, want: np.ndarray) -> Deviation:
    """The checker's measure of got (recomputed) against want (the engine's own), both from prev."""
    x, y, w = (np.asarray(a, dtype=np.float64).ravel() for a in (prev, got, want))
    a, b = w - x, y - x
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0.0:
        return Deviation(0.0 if np.array_equal(w, y) else math.inf, 1.0 if np.array_equal(w, y) else 0.0)
    cos = float(a @ b) / (na * nb) if nb > 0 else 0.0
    return Deviation(float(np.linalg.norm(w - y)) / na, cos)


def worst(devs: list[Deviation]) -> Deviation:
    return Deviation(max(d.error for d in devs), min(d.cosine for d in devs))


@contextmanager
def threads(n: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def backend(engine: Engine, name: str) -> Iterator[None]:
    engine.comps.transformer.set_attention_backend(name)
    try:
        yield
    finally:
        engine.comps.transformer.set_attention_backend(engine.profile.attention_backend)


@contextmanager
def cast_weights(engine: Engine, dtype: torch.dtype) -> Iterator[None]:
    """The transformer's linear weights rounded through dtype: a cheaper model with the same shape."""
    tr = engine.comps.transformer
    saved = {k: v.detach().clone() for k, v in tr.state_dict().items()}
    try:
        with torch.no_grad():
            for m in tr.modules():
                if isinstance(m, torch.nn.Linear):
                    m.weight.copy_(m.weight.to(dtype).to(m.weight.dtype))
        yield
    finally:
        tr.load_state_dict(saved)


def measure(engine: Engine, spec: Spec, other: Engine | None = None) -> dict[str, Any]:
    """Honest variants and cheats over every step of spec; other, when given, is the same
    architecture with other weights."""
    states = [engine.step(spec, 0, None)]
    for t in range(1, spec.steps + 1):
        states.append(engine.step(spec, t, states[-1]))
    steps = range(1, spec.steps + 1)

    def over(recompute: Callable[[int], np.ndarray]) -> Deviation:
        return worst([deviation(states[t - 1], recompute(t), states[t]) for t in steps])

    def own(t: int) -> np.ndarray:
        return engine.step(spec, t, states[t - 1])

    honest: dict[str, Deviation] = {}
    cheats: dict[str, Deviation] = {}
    n = torch.get_num_threads()
    for k in sorted({1, max(1, n - 1), n + 1} - {n}):
        with threads(k):
            honest[f"threads_{k}"] = over(own)
    for name in ("_native_math", "native", "_native_efficient", "_native_flash"):
        if name == engine.profile.attention_backend:
            continue
        try:
            with backend(engine, name):
                honest[f"attention_{name}"] = over(own)
        except Exception:  # noqa: BLE001 — a backend this device lacks is not a variant here
            continue
    for dtype in (torch.bfloat16, torch.float16, torch.float8_e4m3fn):
        with cast_weights(engine, dtype):
            cheats[f"weights_{str(dtype).removeprefix('torch.')}"] = over(own)
    if other is not None:
        cheats["other_weights"] = over(lambda t: other.step(spec, t, states[t - 1]))
    cheats["skipped_step"] = over(lambda t: 2 * own(t) - states[t - 1])

    final = states[-1]
    base = np.frombuffer(engine.decode(spec, final), dtype=np.uint8).astype(np.int16)
    levels = 0
    for k in sorted({1, n + 1} - {n}):
        with threads(k):
            frames = np.frombuffer(engine.decode(spec, final), dtype=np.uint8).astype(np.int16)
        levels = max(levels, int(np.abs(frames - base).max()))
    return {
        "spec": spec.to_json() if hasattr(spec, "to_json") else str(spec),
        "honest": {k: v.to_json() for k, v in honest.items()},
        "cheats": {k: v.to_json() for k, v in cheats.items()},
        "honest_frame_levels": levels,
        "suggested": suggest(list(honest.values()), list(cheats.values()), levels),
    }


def suggest(honest: list[Deviation], cheats: list[Deviation], levels: int) -> dict[str, Any] | None:
    """Thresholds between the honest floor and the cheapest cheat, or None when they do not
    separate by SEPARATION in error."""
    floor = worst(honest) if honest else Deviation(0.0, 1.0)
    cheapest = min(cheats, key=lambda d: d.error)
    h = max(floor.error, 1e-7)
    if cheapest.error < SEPARATION * h:
        return None
    hc = max(1.0 - floor.cosine, 1e-12)
    cc = max(1.0 - min(d.cosine for d in cheats), hc)
    return {
        "max_error": float(f"{math.sqrt(h * cheapest.error):.1g}"),
        "min_cosine": 1.0 - float(f"{math.sqrt(hc * cc):.1g}"),
        "frame_levels": max(MIN_FRAME_LEVELS, 2 * levels),
    }
