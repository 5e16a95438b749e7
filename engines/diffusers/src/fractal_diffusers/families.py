"""Model families: how a profile's components turn a latent and a prompt into a velocity,
and a final latent into frames. Each follows its diffusers pipeline's arithmetic."""

from __future__ import annotations

import html
import re
from typing import Any, Protocol

import torch

from .components import Components, dtype_of
from .profiles import ProfileDef
from .spec import Spec

DECODE_NOISE_STREAM = 0x9E3779B97F4A7C15  # xor'ed into the seed for the LTX decode noise


def clean_prompt(prompt: str) -> str:
    """As the Wan pipeline does (without ftfy): unescape HTML twice, collapse whitespace."""
    return re.sub(r"\s+", " ", html.unescape(html.unescape(prompt))).strip()


def latent_frames(frames: int, temporal: int) -> int:
    """Latent frames whose decode covers frames (exact for frames = k·temporal+1)."""
    return (frames - 1 + temporal - 1) // temporal + 1


def to_uint8(video: torch.Tensor, frames: int) -> torch.Tensor:
    """(1, 3, F', H, W) in [-1, 1] → (frames, H, W, 3) uint8: floor(clamp((x+1)·127.5+0.5, 0, 255))."""
    v = video[0, :, :frames].to(torch.float32)
    u = ((v + 1.0) * 127.5 + 0.5).floor().clamp(0.0, 255.0).to(torch.uint8)
    return u.permute(1, 2, 3, 0).contiguous()


class Family(Protocol):
    def latent_shape(self, spec: Spec) -> tuple[int, ...]: ...
    def encode(self, prompt: str) -> Any: ...
    def velocity(
        self, x: torch.Tensor, timestep: torch.Tensor, cond: Any, uncond: Any, spec: Spec
    ) -> torch.Tensor: ...
    def decode(self, latent: torch.Tensor, spec: Spec) -> torch.Tensor: ...


class Wan:
    """WanPipeline's arithmetic: two forwards per step (cond, uncond), guidance in the model dtype."""

    def __init__(self, profile: ProfileDef, comps: Components, device: torch.device) -> None:
        self.p, self.c, self.device = profile, comps, device
        cfg = comps.vae.config
        self.temporal, self.spatial, self.z = cfg.scale_factor_temporal, cfg.scale_factor_spatial, cfg.z_dim
        self.dtype = dtype_of(profile.transformer_dtype)

    def latent_shape(self, spec: Spec) -> tuple[int, ...]:
        lf = latent_frames(spec.frames, self.temporal)
        return (1, self.z, lf, spec.height // self.spatial, spec.width // self.spatial)

    def encode(self, prompt: str) -> torch.Tensor:
        n = self.p.max_sequence_length
        tok = self.c.tokenizer(
            [clean_prompt(prompt)],
            padding="max_length",
            max_length=n,
            truncation=True,
            add_special_tokens=True,
            return_attention_mask=True,
            return_tensors="pt",
        )
        ids, mask = tok.input_ids.to(self.device), tok.attention_mask.to(self.device)
        emb = self.c.text_encoder(ids, mask).last_hidden_state.to(self.dtype)
        used = int(mask.gt(0).sum())
        emb[:, used:] = 0  # the pipeline keeps the prompt's tokens and zeroes the padding
        return emb

    def velocity(
        self, x: torch.Tensor, timestep: torch.Tensor, cond: Any, uncond: Any, spec: Spec
    ) -> torch.Tensor:
        xin = x.to(self.dtype)
        ts = timestep.to(self.device).expand(1)
        model = self.c.transformer
        v = model(hidden_states=xin, timestep=ts, encoder_hidden_states=cond, return_dict=False)[0]
        if self.p.guidance != 1.0:
            u = model(hidden_states=xin, timestep=ts, encoder_hidden_states=uncond, return_dict=False)[0]
            v = u + self.p.guidance * (v - u)
        return v

    def decode(self, latent: torch.Tensor, spec: Spec) -> torch.Tensor:
        vae = self.c.vae
        cfg = vae.config
        x = latent.to(device=self.device, dtype=vae.dtype)
        mean = torch.tensor(cfg.latents_mean).view(1, self.z, 1, 1, 1).to(x.device, x.dtype)
        inv_std = 1.0 / torch.tensor(cfg.latents_std).view(1, self.z, 1, 1, 1).to(x.device, x.dtype)
        video = vae.decode(x / inv_std + mean, return_dict=False)[0]
        return to_uint8(video, spec.frames)


class Ltx:
    """LTXPipeline's arithmetic: packed tokens, one forward per step at guidance 1, float32 velocity."""

    def __init__(self, profile: ProfileDef, comps: Components, device: torch.device) -> None:
        self.p, self.c, self.device = profile, comps, device
        self.temporal = comps.vae.temporal_compression_ratio
        self.spatial = comps.vae.spatial_compression_ratio
        self.channels = comps.transformer.config.in_channels
        self.dtype = dtype_of(profile.transformer_dtype)

    def latent_shape(self, spec: Spec) -> tuple[int, ...]:
        lf = latent_frames(spec.frames, self.temporal)
        return (1, self.channels, lf, spec.height // self.spatial, spec.width // self.spatial)

    def encode(self, prompt: str) -> tuple[torch.Tensor, torch.Tensor]:
        tok = self.c.tokenizer(
            [prompt],
            padding="max_length",
            max_length=self.p.max_sequence_length,
            truncation=True,
            add_special_tokens=True,
            return_tensors="pt",
        )
        emb = self.c.text_encoder(tok.input_ids.to(self.device))[0].to(self.dtype)
        return emb, tok.attention_mask.bool().to(self.device)

    def _forward(
        self, packed: torch.Tensor, ts: torch.Tensor, text: Any, shape: tuple[int, ...], fps: int
    ) -> torch.Tensor:
        emb, mask = text
        _, _, f, h, w = shape
        return self.c.transformer(
            hidden_states=packed,
            encoder_hidden_states=emb,
            timestep=ts,
            encoder_attention_mask=mask,
            num_frames=f,
            height=h,
            width=w,
            rope_interpolation_scale=(self.temporal / fps, self.spatial, self.spatial),
            return_dict=False,
        )[0].float()

    def velocity(
        self, x: torch.Tensor, timestep: torch.Tensor, cond: Any, uncond: Any, spec: Spec
    ) -> torch.Tensor:
        b, c, f, h, w = x.shape
        packed = x.permute(0, 2, 3, 4, 1).reshape(b, f * h * w, c).to(self.dtype)
        ts = timestep.to(self.device).expand(1)
        v = self._forward(packed, ts, cond, x.shape, spec.fps)
        if self.p.guidance != 1.0:
            u = self._forward(packed, ts, uncond, x.shape, spec.fps)
            v = u + self.p.guidance * (v - u)
        return v.reshape(b, f, h, w, c).permute(0, 4, 1, 2, 3)

    def decode(self, latent: torch.Tensor, spec: Spec) -> torch.Tensor:
        vae = self.c.vae
        x = latent.to(self.device, torch.float32)
        mean = vae.latents_mean.view(1, -1, 1, 1, 1).to(x.device, x.dtype)
        std = vae.latents_std.view(1, -1, 1, 1, 1).to(x.device, x.dtype)
        x = x * std / vae.config.scaling_factor + mean
        temb = None
        if vae.config.timestep_conditioning:
            gen = torch.Generator("cpu").manual_seed(spec.seed ^ DECODE_NOISE_STREAM)
            noise = torch.randn(x.shape, generator=gen, dtype=torch.float32).to(x.device)
            s = self.p.decode_noise_scale
            x = (1.0 - s) * x + s * noise
            temb = torch.tensor([self.p.decode_timestep], device=x.device, dtype=vae.dtype)
        video = vae.decode(x.to(vae.dtype), temb, return_dict=False)[0]
        return to_uint8(video, spec.frames)


def family_for(profile: ProfileDef, comps: Components, device: torch.device) -> Wan | Ltx:
    return Wan(profile, comps, device) if profile.family == "wan" else Ltx(profile, comps, device)
