from __future__ import annotations

import json

import pytest
from conftest import LTX, WAN, spec_for, tiny_engine

from fractal_diffusers.errors import Invalid
from fractal_diffusers.limits import CostModel, Range
from fractal_diffusers.profiles import PROFILES, lookup
from fractal_diffusers.spec import Spec


@pytest.mark.parametrize(
    "r,want",
    [
        (Range.of(480, 832), "one of 480, 832"),
        (Range(1, 100), "between 1 and 100"),
        (Range(16, 16), "between 16 and 16"),
        (Range(9, 41, 8), "one of 9, 17, 25, 33, 41"),
        (Range(5, 81, 4), "one of 5, 9, 13, … up to 81 (every 4 from 5)"),
        (Range(256, 1279, 16), "a multiple of 16 between 256 and 1264"),
        (Range(9, 257, 8), "one of 9, 17, 25, … up to 257 (every 8 from 9)"),
    ],
)
def test_range_says_what_it_allows_as_go_does(r: Range, want: str) -> None:
    assert str(r) == want


def test_range_contains() -> None:
    frames = Range(5, 81, 4)
    assert [v for v in range(0, 90) if v in frames] == list(range(5, 82, 4))
    assert frames.count() == 20 and frames.largest() == 81 and frames.smallest() == 5
    fps = Range.of(24, 25, 30)
    assert [v for v in range(20, 35) if v in fps] == [24, 25, 30]
    assert fps.to_json() == {"min": 24, "max": 30, "values": [24, 25, 30]}
    assert Range(1, 50).to_json() == {"min": 1, "max": 50}


@pytest.mark.parametrize("pid", sorted(PROFILES))
def test_every_profile_has_valid_rules_in_go_shapes(pid: str) -> None:
    p = PROFILES[pid]
    assert p.problems() == []
    rules = json.loads(json.dumps(p.rules()))
    assert (
        {"frame_tolerance", "limits", "cost"}
        <= set(rules)
        <= {"frame_tolerance", "limits", "cost", "cross_class_tolerance"}
    )
    assert rules["frame_tolerance"] == 0
    if "cross_class_tolerance" in rules:
        assert (
            {"max_error", "min_cosine"}
            <= set(rules["cross_class_tolerance"])
            <= {"max_error", "min_cosine", "frame_levels"}
        )
    limits = rules["limits"]
    assert set(limits) == {"frames", "width", "height", "fps", "steps", "prompt_bytes", "default"}
    for name in ("frames", "width", "height", "fps", "steps"):
        assert {"min", "max"} <= set(limits[name]) <= {"min", "max", "step", "values"}
    assert set(limits["default"]) == {"frames", "width", "height", "fps", "steps"}
    assert {"fixed", "per_step", "decode"} <= set(rules["cost"])
    assert set(rules["cost"]) <= {"fixed", "per_step", "attention", "decode"}
    p.limits.check(p.limits.default_spec("a red ball", 1))
    p.limits.check(p.limits.smallest())


def test_limits_validation_finds_what_go_refuses() -> None:
    from dataclasses import replace

    lim = lookup(WAN).limits
    bad = replace(lim, frames=Range(0, 8)).problems()
    assert bad[0] == "limits.frames: range must have 1 ≤ min ≤ max, got min 0 max 8"
    assert replace(lim, prompt_bytes=0).problems()[0].startswith("limits.prompt_bytes")
    outside = replace(lim, default=replace(lim.default, width=100))
    assert outside.problems()[0].startswith("limits.default: width")
    wide = replace(lim, frames=Range(1, 301), width=Range(12, 96, 4)).problems()
    assert wide == [
        "limits.frames: between 1 and 301 is not within the hard caps (between 1 and 257)",
        "limits.width: a multiple of 4 between 12 and 96 is not within the hard caps "
        "(a multiple of 8 between 16 and 1280)",
    ]
    assert CostModel(0, 0, 0, 1).problems() != [] and CostModel(0, 1, 0, -1).problems() != []


WAN_ID, LTX_ID = "wan2.1-t2v-1.3b", "ltx-video-2b-distilled"
WAN_REAL = dict(frames=33, width=832, height=480, fps=16, steps=30)
LTX_REAL = dict(frames=121, width=768, height=512, fps=30, steps=8)


@pytest.mark.parametrize(
    "pid,base,field,change,allowed",
    [
        (WAN_ID, WAN_REAL, "frames", {"frames": 80}, "one of 5, 9, 13, … up to 81 (every 4 from 5)"),
        (WAN_ID, WAN_REAL, "frames", {"frames": 85}, "every 4 from 5"),
        (WAN_ID, WAN_REAL, "frames", {"frames": 1}, "every 4 from 5"),
        (WAN_ID, WAN_REAL, "width", {"width": 840}, "a multiple of 16 between 256 and 1280"),
        (WAN_ID, WAN_REAL, "height", {"height": 1296}, "a multiple of 16 between 256 and 1280"),
        (WAN_ID, WAN_REAL, "fps", {"fps": 8}, "between 16 and 16"),
        (WAN_ID, WAN_REAL, "steps", {"steps": 51}, "between 1 and 50"),
        (LTX_ID, LTX_REAL, "frames", {"frames": 120}, "up to 257 (every 8 from 9)"),
        (LTX_ID, LTX_REAL, "width", {"width": 700}, "a multiple of 32 between 256 and 1280"),
        (LTX_ID, LTX_REAL, "fps", {"fps": 16}, "one of 24, 25, 30"),
        (LTX_ID, LTX_REAL, "steps", {"steps": 30}, "between 8 and 8"),
        (LTX_ID, LTX_REAL, "prompt", {"prompt": "x" * 1001}, "at most 1000 bytes"),
    ],
)
def test_real_profile_limits_name_the_allowed_values(
    pid: str, base: dict[str, int], field: str, change: dict[str, object], allowed: str
) -> None:
    lim = lookup(pid).limits
    ok = Spec("a red ball", 1, **base)  # type: ignore[arg-type]
    lim.check(ok)
    spec = Spec(**{**ok.to_json(), **change})  # type: ignore[arg-type]
    with pytest.raises(Invalid) as info:
        lim.check(spec)
    assert info.value.field == field
    assert allowed in info.value.message, info.value.message
    assert f"got {change[field]}" in info.value.message or field == "prompt"


def test_real_profiles_serve_the_models_shapes() -> None:
    wan = lookup("wan2.1-t2v-1.3b").limits
    for w, h in ((832, 480), (480, 832), (480, 480), (1280, 720)):
        wan.check(Spec("a kite", 1, 81, w, h, 16, 50))
    ltx = lookup("ltx-video-2b-distilled").limits
    for frames in (9, 121, 161, 257):
        ltx.check(Spec("a kite", 1, frames, 1216, 704, 24, 8))


def test_cost_follows_the_go_formula() -> None:
    legacy = CostModel(fixed=0, per_step=1 / 40, attention=0, decode=0.5)
    assert legacy.of(Spec("x", 0, 16, 256, 256, 8, 20)) == pytest.approx(1.0)
    c = CostModel(fixed=1, per_step=2, attention=3, decode=4)
    m = 32 * 512 * 256 / (1 << 20)  # 4
    assert c.of(Spec("x", 0, 32, 512, 256, 8, 10)) == pytest.approx(1 + 10 * (2 * m + 3 * m * m) + 4 * m)
    wan = lookup("wan2.1-t2v-1.3b")
    short, full = (wan.cost.of(Spec("x", 0, f, 832, 480, 16, s)) for f, s in ((33, 30), (81, 50)))
    assert 5 < short < full  # the attention term makes 81 frames more than 81/33 times the work
    assert full / short > (81 * 50) / (33 * 30)


def test_spec_naming_the_profile() -> None:
    e = tiny_engine(WAN)
    named = spec_for(WAN, profile=f"{WAN}@1")
    e.check(named)
    assert named.to_json()["profile"] == f"{WAN}@1" and "profile" not in spec_for(WAN).to_json()
    assert Spec.from_json(named.to_json()) == named
    for other in (f"{LTX}@1", f"{WAN}@2", WAN):
        with pytest.raises(Invalid) as info:
            e.check(spec_for(WAN, profile=other))
        assert info.value.field == "profile"
        assert info.value.message == f"this engine serves {WAN}@1, got {other}"
    with pytest.raises(Invalid) as info:
        Spec.from_json({**named.to_json(), "profile": 3})
    assert info.value.field == "profile"


def test_prompt_messages_match_go() -> None:
    lim = lookup(WAN).limits
    for prompt, want in [
        ("", "must not be empty (1–1000 bytes of UTF-8)"),
        ("é" * 501, "must be at most 1000 bytes, got 1002"),
        (
            "héllo\tworld",
            "must not contain control characters or whitespace other than space (found U+0009 at byte 6)",
        ),
    ]:
        with pytest.raises(Invalid) as info:
            lim.check(spec_for(WAN, prompt=prompt))
        assert (info.value.field, info.value.message) == ("prompt", want)
