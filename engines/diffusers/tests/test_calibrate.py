from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import LTX, WAN, spec_for, tiny_engine

from fractal_diffusers.calibrate import Deviation, deviation, measure, suggest
from fractal_diffusers.components import TINY_SEED, build_tiny
from fractal_diffusers.engine import Engine
from fractal_diffusers.profiles import lookup


def test_deviation_is_the_checkers_measure() -> None:
    # The same cases as the Go checker's TestDeviation (class_test.go).
    prev = np.zeros(4, dtype=np.float32)
    want = np.array([3, 4, 0, 0], dtype=np.float32)
    d = deviation(prev, np.array([3, 4, 0, 0.5], dtype=np.float32), want)
    assert math.isclose(d.error, 0.1, rel_tol=1e-9) and math.isclose(
        d.cosine, 5 / math.sqrt(25.25), rel_tol=1e-9
    )
    d = deviation(prev, 2 * want, want)
    assert math.isclose(d.error, 1.0) and math.isclose(d.cosine, 1.0)
    assert deviation(prev, prev, prev) == Deviation(0.0, 1.0)
    assert math.isinf(deviation(prev, want, prev).error)


def test_suggest_needs_separation() -> None:
    honest = [Deviation(1e-4, 0.99999)]
    assert suggest(honest, [Deviation(5e-4, 0.9999)], 0) is None
    s = suggest(honest, [Deviation(1e-1, 0.99)], 1)
    assert s is not None and 1e-4 < s["max_error"] < 1e-1 and 0.99 < s["min_cosine"] < 0.99999
    assert s["frame_levels"] == 2


@pytest.mark.parametrize("profile_id", [WAN, LTX])
def test_profile_tolerance_passes_honest_classes_and_fails_cheats(profile_id: str) -> None:
    """The tolerance recorded in the tiny profiles, measured again: every honest variant of the
    execution lies inside it and every cheat outside."""
    engine = tiny_engine(profile_id)
    tol = engine.profile.cross_class
    assert tol is not None
    other = Engine(
        lookup(profile_id), build_tiny(lookup(profile_id), seed=TINY_SEED + 1000), torch.device("cpu")
    )
    got = measure(engine, spec_for(profile_id), other)
    assert set(got["cheats"]) >= {"weights_bfloat16", "weights_float16", "other_weights", "skipped_step"}
    for name, d in got["honest"].items():
        assert d["max_error"] <= tol.max_error and d["min_cosine"] >= tol.min_cosine, name
    for name, d in got["cheats"].items():
        assert d["max_error"] > tol.max_error or d["min_cosine"] < tol.min_cosine, name
    assert got["honest_frame_levels"] <= tol.frame_levels
    assert got["suggested"] is not None


def test_cross_class_tolerance_in_the_profile_reply() -> None:
    reply = tiny_engine(WAN).profile_reply()
    assert reply["cross_class_tolerance"] == {"max_error": 3e-5, "min_cosine": 0.999998, "frame_levels": 2}
    assert "cross_class_tolerance" not in lookup(WAN).pinned()
    assert lookup("wan2.1-t2v-1.3b").cross_class is None
    assert "cross_class_tolerance" not in lookup("wan2.1-t2v-1.3b").rules()
