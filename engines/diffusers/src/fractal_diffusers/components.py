"""The model components of a profile: tiny ones built from constructor arguments with
seeded weights (CI), or real ones loaded from a checked weight directory."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .profiles import ProfileDef

TINY_SEED = 20250101


@dataclass
class Components:
    transformer: torch.nn.Module
    vae: torch.nn.Module
    text_encoder: torch.nn.Module
    tokenizer: Any
    weights: dict[str, str]  # name → sha256 hex of each weight file (or generated state dict)


def dtype_of(name: str) -> torch.dtype:
    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]


def state_dict_sha256(module: torch.nn.Module) -> str:
    """SHA-256 over every tensor of a state dict: name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}\n".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def _seeded(seed: int, build: Any) -> torch.nn.Module:
    """Builds a module with weights drawn from seed, leaving the global RNG as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = build()
    return module.eval().requires_grad_(False)


def build_tiny(profile: ProfileDef, seed: int = TINY_SEED) -> Components:
    """Tiny random-weight components of the profile's family; no file or network access.
    The profile's weights are those of TINY_SEED; another seed gives the same architecture
    with other weights."""
    from transformers import ByT5Tokenizer

    tokenizer = ByT5Tokenizer()
    if profile.family == "wan":
        mods = _tiny_wan(len(tokenizer), seed)
    else:
        mods = _tiny_ltx(len(tokenizer), seed)
    weights = {name: state_dict_sha256(m) for name, m in mods.items()}
    return Components(mods["transformer"], mods["vae"], mods["text_encoder"], tokenizer, weights)


def _tiny_wan(vocab: int, seed: int) -> dict[str, torch.nn.Module]:
    from diffusers import AutoencoderKLWan, WanTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    text_cfg = UMT5Config(
        vocab_size=vocab,
        d_model=32,
        d_kv=8,
        d_ff=32,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        dropout_rate=0.0,
    )
    return {
        "text_encoder": _seeded(seed, lambda: UMT5EncoderModel(text_cfg)),
        "transformer": _seeded(
            seed + 1,
            lambda: WanTransformer3DModel(
                patch_size=(1, 2, 2),
                num_attention_heads=2,
                attention_head_dim=12,
                in_channels=16,
                out_channels=16,
                text_dim=32,
                freq_dim=256,
                ffn_dim=32,
                num_layers=2,
                cross_attn_norm=True,
                qk_norm="rms_norm_across_heads",
                rope_max_seq_len=32,
            ),
        ),
        "vae": _seeded(
            seed + 2,
            lambda: AutoencoderKLWan(
                base_dim=3,
                z_dim=16,
                dim_mult=[1, 1, 1, 1],
                num_res_blocks=1,
                temperal_downsample=[False, True, True],
            ),
        ),
    }


def _tiny_ltx(vocab: int, seed: int) -> dict[str, torch.nn.Module]:
    from diffusers import AutoencoderKLLTXVideo, LTXVideoTransformer3DModel
    from transformers import T5Config, T5EncoderModel

    text_cfg = T5Config(
        vocab_size=vocab,
        d_model=32,
        d_kv=8,
        d_ff=32,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        dropout_rate=0.0,
    )
    return {
        "text_encoder": _seeded(seed, lambda: T5EncoderModel(text_cfg)),
        "transformer": _seeded(
            seed + 1,
            lambda: LTXVideoTransformer3DModel(
                in_channels=8,
                out_channels=8,
                patch_size=1,
                patch_size_t=1,
                num_attention_heads=4,
                attention_head_dim=8,
                cross_attention_dim=32,
                num_layers=1,
                caption_channels=32,
            ),
        ),
        "vae": _seeded(
            seed + 2,
            lambda: AutoencoderKLLTXVideo(
                in_channels=3,
                out_channels=3,
                latent_channels=8,
                block_out_channels=(8, 8, 8, 8),
                decoder_block_out_channels=(8, 8, 8, 8),
                layers_per_block=(1, 1, 1, 1, 1),
                decoder_layers_per_block=(1, 1, 1, 1, 1),
                spatio_temporal_scaling=(True, True, True, False),
                decoder_spatio_temporal_scaling=(True, True, True, False),
                decoder_inject_noise=(False, False, False, False, False),
                upsample_residual=(False, False, False, False),
                upsample_factor=(1, 1, 1, 1),
                timestep_conditioning=True,
                patch_size=4,
                patch_size_t=1,
                encoder_causal=True,
                decoder_causal=False,
            ),
        ),
    }


def load(profile: ProfileDef, model_dir: Path, weights: dict[str, str]) -> Components:
    """Loads the profile's components from a diffusers-layout directory whose files were checked."""
    import diffusers
    import transformers

    tdt, edt, vdt = (
        dtype_of(d) for d in (profile.transformer_dtype, profile.text_encoder_dtype, profile.vae_dtype)
    )
    if profile.family == "wan":
        transformer_cls, vae_cls = diffusers.WanTransformer3DModel, diffusers.AutoencoderKLWan
        encoder_cls: Any = transformers.UMT5EncoderModel
    else:
        transformer_cls, vae_cls = diffusers.LTXVideoTransformer3DModel, diffusers.AutoencoderKLLTXVideo
        encoder_cls = transformers.T5EncoderModel
    d = str(model_dir)
    transformer = transformer_cls.from_pretrained(
        d, subfolder="transformer", torch_dtype=tdt, local_files_only=True
    )
    vae = vae_cls.from_pretrained(d, subfolder="vae", torch_dtype=vdt, local_files_only=True)
    text_encoder = encoder_cls.from_pretrained(d, subfolder="text_encoder", dtype=edt, local_files_only=True)
    tokenizer = transformers.AutoTokenizer.from_pretrained(d, subfolder="tokenizer", local_files_only=True)
    for m in (transformer, vae, text_encoder):
        m.eval().requires_grad_(False)
    return Components(transformer, vae, text_encoder, tokenizer, weights)
