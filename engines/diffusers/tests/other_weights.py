"""A cheating engine for the end-to-end grid test (engines/diffusers/e2e), not part of the package:
the tiny Wan profile's architecture with weights from another seed, claiming the profile's weights
(and so its digest). It serves the engine protocol as `fractal-diffusers serve --tiny` does.

Usage: python other_weights.py [serve flags, e.g. --addr 127.0.0.1:0]
"""

from __future__ import annotations

import argparse
import sys

import torch

from fractal_diffusers import cli
from fractal_diffusers.components import TINY_SEED, build_tiny
from fractal_diffusers.engine import Engine
from fractal_diffusers.profiles import lookup

OTHER_SEED = TINY_SEED + 1000


def build(args: argparse.Namespace) -> Engine:
    profile = lookup(args.profile, tiny=True)
    claimed = build_tiny(profile).weights  # what the honest weights hash to
    comps = build_tiny(profile, seed=OTHER_SEED)
    assert comps.weights != claimed
    comps.weights = dict(claimed)
    return Engine(profile, comps, torch.device("cpu"), prompt_cache=args.prompt_cache)


if __name__ == "__main__":
    sys.exit(cli.serve(cli.parser().parse_args(["serve", "--tiny", *sys.argv[1:]]), build=build))
