"""The engine: a trajectory of Steps over a profile's components.

State 0 is seeded noise from a CPU torch.Generator; state t is Step(spec, t, state t-1);
every state is the latent as float32, and every Step starts from that canonical state,
so Generate is the composition of Steps bit for bit on one execution class.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from diffusers import FlowMatchEulerDiscreteScheduler

from . import CODE_VERSION, PROTOCOL
from .components import Components
from .determinism import class_id, execution_class
from .errors import Cancelled, Invalid
from .families import family_for
from .profiles import ProfileDef
from .spec import Spec
from .wire import frames_digest, state_digest


def profile_digest(profile: ProfileDef, weights: dict[str, str]) -> str:
    """SHA-256 over the code version, the pinned profile fields and every weight's sha256."""
    doc = {"code": CODE_VERSION, "profile": profile.pinned(), "weights": weights}
    blob = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(b"fractal/profile/v1\n" + blob).hexdigest()


@dataclass
class Generation:
    spec: Spec
    state_digests: list[str]
    frames: bytes
    frames_digest: str
    states: dict[int, np.ndarray] = field(default_factory=dict)  # kept states (all, or checkpoints)


class Engine:
    """Serves one profile on one device. Calls are not concurrent: the server holds one slot."""

    def __init__(
        self,
        profile: ProfileDef,
        comps: Components,
        device: torch.device,
        prompt_cache: int = 64,
        state_budget: int = 1 << 30,
    ) -> None:
        self.profile, self.comps, self.device = profile, comps, device
        for m in (comps.transformer, comps.vae, comps.text_encoder):
            m.to(device).eval()
        comps.transformer.set_attention_backend(profile.attention_backend)
        self.family = family_for(profile, comps, device)
        self.digest = profile_digest(profile, comps.weights)
        self.execution = execution_class(device)
        self.state_budget = state_budget
        self._prompts: OrderedDict[str, Any] = OrderedDict()
        self._prompt_cache = prompt_cache
        self._schedules: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self._decoded: tuple[tuple[Spec, str], bytes] | None = None
        self._lock = threading.Lock()  # guards the caches when a caller skips the server's slot

    # -- profile ---------------------------------------------------------------------------------

    def profile_core(self) -> dict[str, Any]:
        """The fields of fractal.Profile: identity, determinism and the model's rules."""
        return {
            "id": self.profile.id,
            "version": self.profile.version,
            "digest": self.digest,
            "determinism": "exact",
            **self.profile.rules(),
        }

    def profile_reply(self) -> dict[str, Any]:
        """GET /v1/profile: the profile, the protocol, and optional fields a client may ignore."""
        return {
            **self.profile_core(),
            "protocol": PROTOCOL,
            "capabilities": ["decode_frame"],
            "execution_class": self.execution,
            "execution_class_id": class_id(self.execution),
            "engine": CODE_VERSION,
            "family": self.profile.family,
            "attention_backend": self.profile.attention_backend,
            "licence": self.profile.licence,
        }

    # -- trajectory ------------------------------------------------------------------------------

    def check(self, spec: Spec) -> None:
        """Raises Invalid naming the first field of spec this profile does not serve."""
        if spec.profile and spec.profile != self.profile.ref:
            raise Invalid(f"this engine serves {self.profile.ref}, got {spec.profile}", field="profile")
        self.profile.limits.check(spec)

    def state_shape(self, spec: Spec) -> tuple[int, ...]:
        return self.family.latent_shape(spec)

    def schedule(self, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(sigmas with the terminal 0, timesteps), float32 on the CPU, as the pinned scheduler makes them."""
        with self._lock:
            if steps not in self._schedules:
                sched = FlowMatchEulerDiscreteScheduler(**self.profile.scheduler)
                if self.profile.sigmas:
                    sched.set_timesteps(sigmas=list(self.profile.sigmas))
                else:
                    sched.set_timesteps(steps)
                self._schedules[steps] = (sched.sigmas.to(torch.float32), sched.timesteps.to(torch.float32))
            return self._schedules[steps]

    def text(self, prompt: str) -> Any:
        """Prompt embeddings, cached (least recently used out)."""
        with self._lock:
            if prompt in self._prompts:
                self._prompts.move_to_end(prompt)
                return self._prompts[prompt]
        with torch.inference_mode():
            emb = self.family.encode(prompt)
        with self._lock:
            self._prompts[prompt] = emb
            while len(self._prompts) > self._prompt_cache:
                self._prompts.popitem(last=False)
        return emb

    def initial(self, spec: Spec) -> np.ndarray:
        """State 0: standard normal float32 noise from a CPU generator seeded with spec.seed."""
        gen = torch.Generator("cpu").manual_seed(spec.seed)
        return torch.randn(self.state_shape(spec), generator=gen, dtype=torch.float32).numpy()

    def step(self, spec: Spec, t: int, prev: np.ndarray | None) -> np.ndarray:
        """State t from state t-1 (t = 0: the seeded noise). Checks spec, t and prev's shape."""
        self.check(spec)
        if not 0 <= t <= spec.steps:
            raise Invalid(f"must be between 0 and {spec.steps}, got {t}", field="t")
        if t == 0:
            return self.initial(spec)
        want = self.state_shape(spec)
        if prev is None:
            raise Invalid(f"missing for step {t}", field="state")
        if tuple(prev.shape) != want:
            raise Invalid(f"shape {list(prev.shape)}, want {list(want)} for this spec", field="state")
        return self._step(spec, t, prev)

    def _step(self, spec: Spec, t: int, prev: np.ndarray) -> np.ndarray:
        sigmas, timesteps = self.schedule(spec.steps)
        cond = self.text(spec.prompt)
        uncond = self.text(self.profile.negative_prompt) if self.profile.guidance != 1.0 else None
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(prev, dtype=np.float32)).to(self.device)
            v = self.family.velocity(x, timesteps[t - 1], cond, uncond, spec)
            # FlowMatchEulerDiscreteScheduler.step: x' = cast(float32(x) + dσ·v) to v's dtype.
            dt = sigmas[t] - sigmas[t - 1]
            nxt = (x + dt * v).to(v.dtype)
            return nxt.to(torch.float32).cpu().numpy()

    def generate(
        self,
        spec: Spec,
        keep_states: bool = False,
        on_step: Callable[[int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> Generation:
        """The whole trajectory and its frames. With keep_states, the states within the byte
        budget are kept (every one, or evenly spaced checkpoints; see recompute)."""
        self.check(spec)
        stride = self.checkpoint_stride(spec) if keep_states else 0
        state = self.initial(spec)
        digests = [state_digest(state)]
        kept: dict[int, np.ndarray] = {0: state} if keep_states else {}
        for t in range(1, spec.steps + 1):
            if cancelled is not None and cancelled():
                raise Cancelled(f"cancelled before step {t}")
            state = self._step(spec, t, state)
            digests.append(state_digest(state))
            if keep_states and (t % stride == 0 or t == spec.steps):
                kept[t] = state
            if on_step is not None:
                on_step(t)
        pix = self.decode(spec, state)
        fd = frames_digest(pix, spec.frames, spec.height, spec.width, spec.fps)
        return Generation(spec, digests, pix, fd, kept)

    def checkpoint_stride(self, spec: Spec) -> int:
        """Keep every stride-th state so that the kept states fit the byte budget."""
        size = 4 * int(np.prod(self.state_shape(spec)))
        fit = max(1, self.state_budget // size - 1)  # the final state is always kept
        return max(1, -(-spec.steps // fit))

    def states(self, gen: Generation) -> Any:
        """Yields (t, state) for t = 0…steps, recomputing those between checkpoints, each
        checked against its committed digest."""
        prev: np.ndarray | None = None
        for t in range(gen.spec.steps + 1):
            state = gen.states.get(t)
            if state is None:
                assert prev is not None
                state = self._step(gen.spec, t, prev)
                if state_digest(state) != gen.state_digests[t]:
                    raise RuntimeError(
                        f"state {t} recomputed from its checkpoint differs from the committed one"
                    )
            yield t, state
            prev = state

    def decode(self, spec: Spec, final: np.ndarray) -> bytes:
        """Frames bytes (frames, height, width, 3) of a final state; the last one is cached."""
        self.check(spec)
        want = self.state_shape(spec)
        if tuple(final.shape) != want:
            raise Invalid(f"shape {list(final.shape)}, want {list(want)} for this spec", field="state")
        key = (spec, state_digest(final))
        with self._lock:
            if self._decoded is not None and self._decoded[0] == key:
                return self._decoded[1]
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(final, dtype=np.float32))
            pix = self.family.decode(x, spec).cpu().numpy().tobytes()
        with self._lock:
            self._decoded = (key, pix)
        return pix
