"""CPU figures for the tiny profiles: Generate, Step and Decode times (median of runs)."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import torch

from fractal_diffusers import determinism
from fractal_diffusers.components import build_tiny
from fractal_diffusers.engine import Engine
from fractal_diffusers.profiles import lookup
from fractal_diffusers.spec import Spec


def median_s(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench(pid: str, spec: Spec) -> str:
    p = lookup(pid)
    engine = Engine(p, build_tiny(p), torch.device("cpu"))
    engine.generate(spec)  # warm-up, prompt cached
    gen = engine.generate(spec, keep_states=True)
    final = gen.states[spec.steps]

    def generate() -> None:
        engine._decoded = None  # decode for real, not from the one-entry cache
        engine.generate(spec)

    t_gen = median_s(generate, 3)
    t_step = median_s(lambda: engine.step(spec, spec.steps, gen.states[spec.steps - 1]), 5)

    def decode() -> None:
        engine._decoded = None
        engine.decode(spec, final)

    t_dec = median_s(decode, 3)
    shape = "×".join(map(str, engine.state_shape(spec)))
    return (
        f"{pid} {spec.frames}f {spec.width}×{spec.height} {spec.steps} steps (state {shape}): "
        f"generate {t_gen * 1000:.1f} ms, step {t_step * 1000:.1f} ms, decode {t_dec * 1000:.1f} ms"
    )


def main() -> int:
    determinism.enforce()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    cases = [
        ("wan2.1-t2v-1.3b-tiny", Spec("a red ball bouncing over the ocean at night", 7, 4, 96, 64, 8, 5)),
        ("wan2.1-t2v-1.3b-tiny", Spec("a blue cube spinning in a forest", 11, 16, 256, 256, 8, 20)),
        (
            "ltx-video-2b-distilled-tiny",
            Spec("a red ball bouncing over the ocean at night", 7, 9, 96, 64, 24, 8),
        ),
    ]
    for pid, spec in cases:
        print(bench(pid, spec))
    return 0


if __name__ == "__main__":
    sys.exit(main())
