"""A Fractal engine (docs/engine-protocol.md) for pinned diffusers text-to-video pipelines."""

# CODE_VERSION enters every profile digest: bump it on any change that can
# change a state or a frame.
CODE_VERSION = "fractal-diffusers/0.1.0"
PROTOCOL = "fractal-engine/2"  # docs/engine-protocol.md
