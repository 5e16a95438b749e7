package refengine

import (
	"math"
	"testing"
)

func nanValue() float64 { return math.NaN() }

func TestSinTurns(t *testing.T) {
	for i := -4000; i <= 4000; i++ {
		x := float32(i) / 997
		got := float64(sinTurns(x))
		want := math.Sin(2 * math.Pi * float64(x))
		if math.Abs(got-want) > 1e-5 {
			t.Fatalf("sinTurns(%g): got %g, want %g", x, got, want)
		}
	}
}

func TestNoiseMoments(t *testing.T) {
	const n = 200000
	key := noiseKey(1, 2, noiseStream)
	var sum, sq float64
	for i := 0; i < n; i++ {
		v := float64(noiseAt(key, i))
		sum += v
		sq += v * v
	}
	mean, variance := sum/n, sq/n-(sum/n)*(sum/n)
	if math.Abs(mean) > 0.01 || math.Abs(variance-1) > 0.02 {
		t.Errorf("got mean %.4f variance %.4f, want 0 and 1", mean, variance)
	}
	if noiseAt(key, 5) == noiseAt(noiseKey(1, 3, noiseStream), 5) {
		t.Error("steps 2 and 3 share a noise value")
	}
}

func TestToByte(t *testing.T) {
	tests := []struct {
		in   float32
		want byte
	}{
		{0, 0}, {1, 255}, {0.5, 128}, {-3, 0}, {7, 255},
		{float32(math.NaN()), 0}, {float32(math.Inf(1)), 255}, {float32(math.Inf(-1)), 0},
	}
	for _, tt := range tests {
		if got := toByte(tt.in); got != tt.want {
			t.Errorf("toByte(%g): got %d, want %d", tt.in, got, tt.want)
		}
	}
}
