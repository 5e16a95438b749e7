package refengine

import "math"

// Arithmetic here is written so that results are bit-identical on every
// architecture: every product that feeds an addition is rounded by an
// explicit float32 conversion (which forbids fused multiply-add), and
// transcendental functions are replaced by fixed polynomials. math.Sqrt and
// math.Floor are exact IEEE operations everywhere.

// Taylor coefficients of sin(2πf) for f in turns, |f| ≤ 1/4.
const (
	twoPi = 2 * math.Pi
	sinC1 = twoPi
	sinC3 = -twoPi * twoPi * twoPi / 6
	sinC5 = twoPi * twoPi * twoPi * twoPi * twoPi / 120
	sinC7 = -twoPi * twoPi * twoPi * twoPi * twoPi * twoPi * twoPi / 5040
	sinC9 = twoPi * twoPi * twoPi * twoPi * twoPi * twoPi * twoPi * twoPi * twoPi / 362880
)

// sinTurns returns sin(2πx), x measured in turns (absolute error < 4e-6).
func sinTurns(x float32) float32 {
	f := x - floor32(x+0.5) // [-0.5, 0.5)
	if f > 0.25 {
		f = 0.5 - f
	} else if f < -0.25 {
		f = -0.5 - f
	}
	z := float32(f * f)
	p := float32(z*sinC9) + sinC7
	p = float32(z*p) + sinC5
	p = float32(z*p) + sinC3
	p = float32(z*p) + sinC1
	return float32(f * p)
}

// cosTurns returns cos(2πx), x measured in turns.
func cosTurns(x float32) float32 { return sinTurns(x + 0.25) }

func floor32(x float32) float32 { return float32(math.Floor(float64(x))) }

func fract(x float32) float32 { return x - floor32(x) }

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

func clamp(x, lo, hi float32) float32 {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}

// lerp returns a + (b-a)·t with the product rounded.
func lerp(a, b, t float32) float32 { return a + float32((b-a)*t) }

// smooth01 is the smoothstep polynomial on a value already clamped to [0,1].
func smooth01(t float32) float32 { return float32(float32(t*t) * (3 - float32(2*t))) }

// hypot returns √(x²+y²).
func hypot(x, y float32) float32 { return sqrt32(float32(x*x) + float32(y*y)) }

// cellIndex floors x to an int, clamped so that conversion is defined for any
// input (float-to-int conversion of out-of-range values differs by CPU).
func cellIndex(x float32) int32 {
	if !(x > -1e6) {
		return -1000000
	}
	if x > 1e6 {
		return 1000000
	}
	return int32(floor32(x))
}

// mix64 is the splitmix64 finaliser: a bijective 64-bit mixer.
func mix64(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	z ^= z >> 31
	return z
}

const golden64 = 0x9e3779b97f4a7c15

// hash3 mixes three words into one.
func hash3(a, b, c uint64) uint64 {
	return mix64(mix64(mix64(a+golden64)^b+golden64) ^ c)
}

// cellHash hashes a lattice cell (per-pixel work: one mixing round).
func cellHash(key uint64, i, j int32) uint64 {
	return mix64(key + uint64(uint32(i))*0xd6e8feb86659fd93 + uint64(uint32(j))*golden64)
}

// unit maps the top 24 bits of h to [0, 1) exactly.
func unit(h uint64) float32 { return float32(float32(h>>40) * (1.0 / (1 << 24))) }

// noiseKey is the counter-based noise stream of sampling step t.
func noiseKey(seed uint64, t int, stream uint64) uint64 {
	return hash3(seed, uint64(t), stream)
}

// noiseAt returns element i of a noise stream: a triangular variate with zero
// mean and unit variance, computable for any i independently.
func noiseAt(key uint64, i int) float32 {
	h := mix64(key + uint64(i)*golden64)
	u1 := unit(h)
	u2 := float32(float32(h&0xffffff) * (1.0 / (1 << 24)))
	return float32((u1 + u2 - 1) * noiseScale)
}

// noiseScale makes the triangular variate unit-variance (√6).
const noiseScale = 2.449489742783178
