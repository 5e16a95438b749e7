"""The pinned profiles: model family, limits, scheduler, guidance, dtypes and weights' origin."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import Invalid
from .spec import Spec, validate_prompt


@dataclass(frozen=True)
class Limits:
    """The shapes and step counts a profile can make. frames % frames_modulus == frames_remainder."""

    frames_min: int
    frames_max: int
    frames_modulus: int
    frames_remainder: int
    side_min: int
    side_max: int
    side_multiple: int
    fps_min: int
    fps_max: int
    steps_min: int
    steps_max: int
    sizes: tuple[tuple[int, int], ...] = ()  # allowed (width, height); empty: any within the sides

    def check(self, spec: Spec) -> None:
        """Raises Invalid naming the first field of spec outside these limits."""
        validate_prompt(spec.prompt)
        if not self.frames_min <= spec.frames <= self.frames_max or (
            spec.frames % self.frames_modulus != self.frames_remainder
        ):
            raise Invalid(f"must be {self._frames_rule()}, got {spec.frames}", field="frames")
        for name, v in (("width", spec.width), ("height", spec.height)):
            if not self.side_min <= v <= self.side_max or v % self.side_multiple:
                rule = f"a multiple of {self.side_multiple} between {self.side_min} and {self.side_max}"
                raise Invalid(f"must be {rule}, got {v}", field=name)
        if self.sizes and (spec.width, spec.height) not in self.sizes:
            allowed = ", ".join(f"{w}×{h}" for w, h in self.sizes)
            raise Invalid(
                f"width×height must be one of {allowed}, got {spec.width}×{spec.height}", field="width"
            )
        if not self.fps_min <= spec.fps <= self.fps_max:
            raise Invalid(f"must be between {self.fps_min} and {self.fps_max}, got {spec.fps}", field="fps")
        if not self.steps_min <= spec.steps <= self.steps_max:
            raise Invalid(
                f"must be between {self.steps_min} and {self.steps_max}, got {spec.steps}", field="steps"
            )

    def _frames_rule(self) -> str:
        if self.frames_modulus == 1:
            return f"between {self.frames_min} and {self.frames_max}"
        k = self.frames_modulus
        return f"{k}k+{self.frames_remainder} between {self.frames_min} and {self.frames_max}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "frames": {
                "min": self.frames_min,
                "max": self.frames_max,
                "modulus": self.frames_modulus,
                "remainder": self.frames_remainder,
            },
            "side": {"min": self.side_min, "max": self.side_max, "multiple": self.side_multiple},
            "fps": {"min": self.fps_min, "max": self.fps_max},
            "steps": {"min": self.steps_min, "max": self.steps_max},
        }
        if self.sizes:
            out["sizes"] = [{"width": w, "height": h} for w, h in self.sizes]
        return out


@dataclass(frozen=True)
class ProfileDef:
    """Everything that fixes a profile's output, short of the weights themselves."""

    id: str
    version: str
    family: str  # "wan" or "ltx"
    limits: Limits
    scheduler: dict[str, Any]  # FlowMatchEulerDiscreteScheduler config
    guidance: float
    max_sequence_length: int
    transformer_dtype: str
    text_encoder_dtype: str
    vae_dtype: str
    attention_backend: str
    licence: str
    tiny: bool = False
    sigmas: tuple[float, ...] = ()  # a pinned schedule; empty: the scheduler's own for the spec's steps
    negative_prompt: str = ""
    decode_timestep: float = 0.0  # LTX timestep-conditioned VAE
    decode_noise_scale: float = 0.0
    repo_id: str = ""
    tolerance: dict[str, float] = field(default_factory=dict)  # cross-class thresholds, once measured

    def pinned(self) -> dict[str, Any]:
        """The fields that enter the profile digest (with the weights' hashes and the code version)."""
        return {
            "id": self.id,
            "version": self.version,
            "family": self.family,
            "limits": self.limits.to_json(),
            "scheduler": {"class": "FlowMatchEulerDiscreteScheduler", **self.scheduler},
            "sigmas": list(self.sigmas),
            "guidance": self.guidance,
            "negative_prompt": self.negative_prompt,
            "max_sequence_length": self.max_sequence_length,
            "dtypes": {
                "transformer": self.transformer_dtype,
                "text_encoder": self.text_encoder_dtype,
                "vae": self.vae_dtype,
                "state": "float32",
            },
            "attention_backend": self.attention_backend,
            "decode": {
                "timestep": self.decode_timestep,
                "noise_scale": self.decode_noise_scale,
                "rounding": "u8 = floor(clamp((x + 1) * 127.5 + 0.5, 0, 255)) in float32",
            },
        }


WAN_SCHEDULER: dict[str, Any] = {
    "num_train_timesteps": 1000,
    "shift": 3.0,
    "use_dynamic_shifting": False,
}
# LTX-Video 0.9.8 distilled: a pinned timestep list used as given (no shifting),
# one forward per step (guidance 1.0).
LTX_SCHEDULER: dict[str, Any] = {
    "num_train_timesteps": 1000,
    "shift": 1.0,
    "use_dynamic_shifting": False,
}
LTX_DISTILLED_SIGMAS = (1.0, 0.993, 0.987, 0.981, 0.975, 0.909, 0.725, 0.00003)

WAN_LICENCE = "Apache-2.0 (Wan-AI/Wan2.1-T2V-1.3B-Diffusers)"
LTX_LICENCE = "LTX-Video Open Weights License (Lightricks); read the licence at the pinned revision"

WAN_13B = ProfileDef(
    id="wan2.1-t2v-1.3b",
    version="1",
    family="wan",
    limits=Limits(
        frames_min=1,
        frames_max=81,
        frames_modulus=4,
        frames_remainder=1,
        side_min=480,
        side_max=832,
        side_multiple=16,
        fps_min=16,
        fps_max=16,
        steps_min=1,
        steps_max=50,
        sizes=((832, 480), (480, 832), (480, 480)),
    ),
    scheduler=WAN_SCHEDULER,
    guidance=5.0,
    max_sequence_length=512,
    transformer_dtype="bfloat16",
    text_encoder_dtype="bfloat16",
    vae_dtype="float32",
    attention_backend="_native_flash",
    licence=WAN_LICENCE,
    repo_id="Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
)

LTX_2B_DISTILLED = ProfileDef(
    id="ltx-video-2b-distilled",
    version="1",
    family="ltx",
    limits=Limits(
        frames_min=9,
        frames_max=161,
        frames_modulus=8,
        frames_remainder=1,
        side_min=256,
        side_max=1024,
        side_multiple=32,
        fps_min=8,
        fps_max=60,
        steps_min=len(LTX_DISTILLED_SIGMAS),
        steps_max=len(LTX_DISTILLED_SIGMAS),
    ),
    scheduler=LTX_SCHEDULER,
    sigmas=LTX_DISTILLED_SIGMAS,
    guidance=1.0,
    max_sequence_length=128,
    transformer_dtype="bfloat16",
    text_encoder_dtype="bfloat16",
    vae_dtype="bfloat16",
    attention_backend="_native_flash",
    decode_timestep=0.05,
    decode_noise_scale=0.025,
    licence=LTX_LICENCE,
    repo_id="Lightricks/LTX-Video",
)

# Tiny random-weight variants for CI: the same code paths on constructor-built
# components. Their frames are any count (the VAE's output is cut to it) and
# their sides small, so the contract suite's shapes fit.
TINY_LIMITS = dict(
    frames_min=1, frames_max=64, frames_modulus=1, frames_remainder=0, side_min=64, side_max=256
)

WAN_TINY = ProfileDef(
    id="wan2.1-t2v-1.3b-tiny",
    version="1",
    family="wan",
    limits=Limits(**TINY_LIMITS, side_multiple=16, fps_min=1, fps_max=60, steps_min=1, steps_max=50),
    scheduler=WAN_SCHEDULER,
    guidance=5.0,
    max_sequence_length=32,
    transformer_dtype="float32",
    text_encoder_dtype="float32",
    vae_dtype="float32",
    attention_backend="native",
    licence="Apache-2.0 (random weights generated from a fixed seed)",
    tiny=True,
)

LTX_TINY = ProfileDef(
    id="ltx-video-2b-distilled-tiny",
    version="1",
    family="ltx",
    limits=Limits(
        **TINY_LIMITS,
        side_multiple=32,
        fps_min=1,
        fps_max=60,
        steps_min=len(LTX_DISTILLED_SIGMAS),
        steps_max=len(LTX_DISTILLED_SIGMAS),
    ),
    scheduler=LTX_SCHEDULER,
    sigmas=LTX_DISTILLED_SIGMAS,
    guidance=1.0,
    max_sequence_length=32,
    transformer_dtype="float32",
    text_encoder_dtype="float32",
    vae_dtype="float32",
    attention_backend="native",
    decode_timestep=0.05,
    decode_noise_scale=0.025,
    licence="Apache-2.0 (random weights generated from a fixed seed)",
    tiny=True,
)

PROFILES: dict[str, ProfileDef] = {p.id: p for p in (WAN_13B, LTX_2B_DISTILLED, WAN_TINY, LTX_TINY)}


def lookup(profile_id: str, tiny: bool = False) -> ProfileDef:
    """Returns the profile named, or its tiny variant."""
    if tiny and not profile_id.endswith("-tiny"):
        profile_id += "-tiny"
    try:
        return PROFILES[profile_id]
    except KeyError:
        raise ValueError(f"unknown profile {profile_id!r}; known: {', '.join(sorted(PROFILES))}") from None
