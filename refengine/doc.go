// Package refengine is the built-in reference engine: a small procedural
// diffusion model in pure Go that needs no GPU and is bit-exact across runs,
// GOMAXPROCS values and CPU architectures.
//
// # Scene
//
// The prompt is split into lower-case words and parsed into a scene:
// objects (ball, star, cube, bird, fish, tree, car, moon, sun, cloud, heart,
// …) with their colours, counts, sizes and motions (bouncing, spinning,
// moving left/right, rising, falling, orbiting, still, …), a backdrop (ocean,
// sky, forest, desert, city, space, snow, …), a time of day and styles (dark,
// bright, neon, foggy, …). Words outside the vocabulary are hashed and
// perturb hues, textures and positions; a prompt of only unknown words gets
// an object chosen by their hash. The seed places and phases the objects.
//
// # Sampling
//
// A state has shape (frames, height/4, width/4, 4): colour and glow at a
// quarter of the image resolution. State 0 is seeded noise. Step t computes,
// for every element, the scene target g (the scene rendered at latent
// resolution), the smoothed previous value b, an estimate x̂ = g + κ(b − g),
// and
//
//	x_t = x̂ + (σ_t/σ_{t−1})·ρ·(x_{t−1} − x̂) + σ_t·ν·n(seed, t, i)
//
// with σ falling linearly to 0 at the last step. The noise n is a
// counter-based hash of (seed, t, position), the same for every frame so
// that still scenes stay still; any element is computable on its own.
//
// # Decoding
//
// A frame is the scene rendered at full resolution plus the bilinearly
// upsampled residual between the final state and the scene at latent
// resolution, plus the glow channel. Frame i depends only on frame i of the
// final state, so DecodeFrame costs about 1/frames of Decode. Likewise frame
// i of a state depends only on frame i of the state before, so StepFrame
// recomputes one frame of a step at about 1/frames of a Step.
//
// NewWithJitter gives a tolerant variant whose steps add tiny relative noise,
// standing in for engines that are not bit-exact.
//
// # Determinism
//
// Work is split by rows whose results never depend on which goroutine
// computes them. Every product that feeds an addition is rounded by an
// explicit float32 conversion, which forbids fused multiply-add (arm64 and
// GOAMD64=v3 would otherwise fuse), and sines come from a fixed polynomial.
// The tests check the compiled code for fused instructions and run the golden
// digests under qemu-aarch64.
package refengine
