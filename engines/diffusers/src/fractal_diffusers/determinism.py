"""Deterministic execution, and the execution class a profile reports with it."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from typing import Any

import torch


def enforce() -> None:
    """Deterministic kernels, no autotuning, no TF32. Call before the first CUDA use."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")


def execution_class(device: torch.device) -> dict[str, Any]:
    """What must match for two engines' states to agree bit for bit."""
    import diffusers
    import transformers

    out: dict[str, Any] = {
        "device": "cpu",
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "transformers": transformers.__version__,
        "machine": platform.machine(),
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        out.update(
            device=props.name,
            capability=f"{props.major}.{props.minor}",
            cuda=torch.version.cuda or "",
            cudnn=str(torch.backends.cudnn.version() or ""),
            driver=_driver_version(),
        )
    else:
        out.update(cpu=platform.processor() or platform.machine(), threads=torch.get_num_threads())
    return out


def class_id(cls: dict[str, Any]) -> str:
    """A stable name of an execution class: sha256 of its canonical JSON. Two engines whose ids
    match compute bit-identical states; a checker compares across ids only within the profile's
    cross-class tolerance (docs/engines.md, Determinism classes)."""
    blob = json.dumps(cls, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return "sha256:" + hashlib.sha256(b"fractal/execution-class/v1\n" + blob).hexdigest()


def _driver_version() -> str:
    try:
        res = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return res.stdout.strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unknown"
