package devchain_test

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/internal/testenv"
)

// fullSubnet fills subnet 1 with 256 neurons: 64 staked validators with
// weights on every uid, axons for all, and one consensus epoch run.
func fullSubnet(b *testing.B) *devchain.Chain {
	b.Helper()
	c := mustOpen(b, nil)
	ctx := b.Context()
	alice := testenv.Key(b, "//Alice")
	p := devchain.DefaultSubnetParams()
	p.WeightsRateLimit, p.Tempo, p.CommitReveal = 0, 10, false
	if err := c.SetSubnetParams(ctx, alice, 1, p); err != nil {
		b.Fatal(err)
	}
	uids := make([]uint16, devchain.MaxUIDsLimit)
	ws := make([]uint16, devchain.MaxUIDsLimit)
	for i := range devchain.MaxUIDsLimit {
		k := testenv.Key(b, fmt.Sprintf("//bench%d", i))
		if err := c.BurnedRegister(ctx, alice, 1, k.SS58()); err != nil {
			b.Fatal(err)
		}
		axon := fractal.Axon{IP: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), Port: 8091, Protocol: 4}
		if err := c.ServeAxon(ctx, k, 1, axon); err != nil {
			b.Fatal(err)
		}
		if i < 64 {
			if err := c.AddStake(ctx, alice, 1, k.SS58(), uint64(i+1)*fractal.RaoPerTAO); err != nil {
				b.Fatal(err)
			}
		}
		uids[i], ws[i] = uint16(i), uint16(1+i*97%65535)
	}
	for i := range 64 {
		if err := c.SetWeights(ctx, testenv.Key(b, fmt.Sprintf("//bench%d", i)), 1, uids, ws, 0); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := c.Advance(10); err != nil {
		b.Fatal(err)
	}
	return c
}

func benchMetagraph(b *testing.B, chain fractal.ChainReader) {
	b.ReportAllocs()
	for b.Loop() {
		m, err := chain.Metagraph(b.Context(), 1)
		if err != nil {
			b.Fatal(err)
		}
		if len(m.Neurons) != devchain.MaxUIDsLimit {
			b.Fatalf("got %d neurons, want %d", len(m.Neurons), devchain.MaxUIDsLimit)
		}
	}
}

// BenchmarkMetagraph256 syncs the metagraph of a full 256-neuron subnet.
func BenchmarkMetagraph256(b *testing.B) {
	c := fullSubnet(b)
	b.Run("InProcess", func(b *testing.B) { benchMetagraph(b, c) })
	b.Run("Served", func(b *testing.B) {
		alice := testenv.Key(b, "//Alice")
		cl := mustServe(b, c)
		b.ReportAllocs()
		for b.Loop() {
			// A change each time (as a new block would make) defeats the
			// client's cache: this measures a full sync.
			if _, err := c.AdvanceBlocks(b.Context(), alice, 1); err != nil {
				b.Fatal(err)
			}
			if _, err := cl.Metagraph(b.Context(), 1); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ServedUnchanged", func(b *testing.B) { benchMetagraph(b, mustServe(b, c)) })
}

// BenchmarkEpoch256 runs blocks with consensus due on every block on a
// full subnet with 64 validators.
func BenchmarkEpoch256(b *testing.B) {
	c := fullSubnet(b)
	p := devchain.DefaultSubnetParams()
	p.WeightsRateLimit, p.Tempo, p.CommitReveal = 0, 1, false
	if err := c.SetSubnetParams(b.Context(), testenv.Key(b, "//Alice"), 1, p); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := c.Advance(1); err != nil {
			b.Fatal(err)
		}
	}
}
