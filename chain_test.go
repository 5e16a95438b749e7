package fractal_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/sr25519"
)

func TestNormalizeWeights(t *testing.T) {
	uids, ws, err := fractal.NormalizeWeights([]uint16{0, 1, 2, 3}, []float64{0.5, 1, 0.25, 0})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(uids, []uint16{0, 1, 2}) || !slices.Equal(ws, []uint16{32768, 65535, 16384}) {
		t.Errorf("got %v %v, want [0 1 2] [32768 65535 16384]", uids, ws)
	}
	for name, w := range map[string][]float64{"negative": {1, -1}, "all zero": {0, 0}, "length": {1}} {
		if _, _, err := fractal.NormalizeWeights([]uint16{0, 1}, w); !errors.Is(err, fractal.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
}

func TestReceipt(t *testing.T) {
	key, err := sr25519.FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	r := fractal.Receipt{RequestID: "job-1", Profile: "fractal-ref@1", SpecHash: fractal.DefaultSpec("x", 1).Hash()}
	r.Commitment.FramesDigest[0] = 1
	if err := r.Sign(key); err != nil {
		t.Fatal(err)
	}
	var v sr25519.Verifier
	if err := r.Verify(&v); err != nil {
		t.Fatalf("valid receipt refused: %v", err)
	}
	forged := r
	forged.Commitment.TrajectoryRoot[0] = 9
	if err := forged.Verify(&v); !errors.Is(err, fractal.ErrUnauthorized) {
		t.Errorf("altered receipt: got %v, want ErrUnauthorized", err)
	}
	forged = r
	forged.Signature = "nothex"
	if err := forged.Verify(&v); !errors.Is(err, fractal.ErrUnauthorized) {
		t.Errorf("malformed signature: got %v, want ErrUnauthorized", err)
	}
}

func TestSubnetWeightsRow(t *testing.T) {
	w := &fractal.SubnetWeights{Rows: []fractal.WeightsRow{{Hotkey: "a", UID: 1}, {Hotkey: "b", UID: 2}}}
	if r := w.Row("b"); r.UID != 2 {
		t.Errorf("Row(b) = %+v", r)
	}
	if r := w.Row("c"); r.Hotkey != "" {
		t.Errorf("Row(c) = %+v, want the zero row", r)
	}
}
