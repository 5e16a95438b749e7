package subtensor

import (
	"context"
	"encoding/binary"
	"testing"
	"time"
)

// neurons256 synthesises a 256-neuron subnet from the recorded neurons,
// giving each uid its own hotkey, axon and stake.
func neurons256(tb testing.TB) []NeuronInfoLite {
	tb.Helper()
	var v neuronsVector
	vector(tb, "neurons_lite.json", &v)
	base, err := DecodeNeuronsLite(mustHex(tb, v.InnerHex))
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]NeuronInfoLite, 256)
	for i := range out {
		n := base[i%len(base)]
		n.UID = uint16(i)
		binary.LittleEndian.PutUint16(n.Hotkey[:2], uint16(i))
		n.Axon.Port = 8000 + uint16(i)
		n.Stake = []StakeEntry{{Coldkey: n.Coldkey, Amount: uint64(i) * 1e9}}
		n.Emission, n.LastUpdate = uint64(i)*1000, uint64(i)
		out[i] = n
	}
	return out
}

func TestNeurons256RoundTrip(t *testing.T) {
	want := neurons256(t)
	typed := EncodeNeuronsLite(want)
	wrapped := append(appendCompact(nil, uint64(len(typed))), typed...)
	for name, b := range map[string][]byte{"typed": typed, "wrapped": wrapped} {
		got, err := DecodeNeuronsLite(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != 256 || got[255].UID != 255 || got[255].TotalStake() != 255e9 || got[17].Axon.Port != 8017 {
			t.Errorf("%s: got %d neurons, last %+v", name, len(got), got[len(got)-1])
		}
	}
}

func BenchmarkDecodeNeuronsLite256(b *testing.B) {
	typed := EncodeNeuronsLite(neurons256(b))
	wrapped := append(appendCompact(nil, uint64(len(typed))), typed...)
	for _, bc := range []struct {
		name string
		in   []byte
	}{{"typed", typed}, {"wrapped", wrapped}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeNeuronsLite(bc.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNeurons256ToDomain measures the conversion to fractal.Neuron,
// which encodes two SS58 addresses per neuron.
func BenchmarkNeurons256ToDomain(b *testing.B) {
	neurons := neurons256(b)
	b.ReportAllocs()
	for b.Loop() {
		for i := range neurons {
			_ = neurons[i].Neuron()
		}
	}
}

// BenchmarkChopsticksMetagraph256 reads a 256-neuron subnet from the real
// runtime: the subnet is written with dev_setStorage (registering 256
// hotkeys one block each would take minutes).
func BenchmarkChopsticksMetagraph256(b *testing.B) {
	d := getDevnet(b, runtime218Spec)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const netuid = 200
	if err := d.writeSubnet(ctx, netuid, 256); err != nil {
		b.Fatal(err)
	}
	m, err := d.client.Metagraph(ctx, netuid)
	if err != nil {
		b.Fatal(err)
	}
	if len(m.Neurons) != 256 {
		b.Fatalf("got %d neurons, want 256", len(m.Neurons))
	}
	b.Run("Metagraph", func(b *testing.B) {
		for b.Loop() {
			if _, err := d.client.Metagraph(ctx, netuid); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The runtime API call alone, which chopsticks executes in its wasm
	// interpreter with storage served from JavaScript.
	b.Run("StateCall", func(b *testing.B) {
		for b.Loop() {
			if _, err := d.client.NeuronsLite(ctx, netuid, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// writeSubnet creates subnet netuid with n neurons straight in storage.
func (d *devnet) writeSubnet(ctx context.Context, netuid uint16, n int) error {
	rt, err := d.client.cachedRuntime(ctx)
	if err != nil {
		return err
	}
	net := appendU16(nil, netuid)
	var pairs [][]string
	put := func(item string, value []byte, keys ...[]byte) error {
		k, err := rt.StorageKey(palletSubtensor, item, keys...)
		pairs = append(pairs, []string{encodeHex(k), encodeHex(value)})
		return err
	}
	if err := put("NetworksAdded", []byte{1}, net); err != nil {
		return err
	}
	if err := put("SubnetworkN", appendU16(nil, uint16(n)), net); err != nil {
		return err
	}
	for uid := range n {
		var hot [32]byte
		binary.LittleEndian.PutUint16(hot[:], uint16(uid))
		hot[31] = 0xf7
		if err := put("Keys", hot[:], net, appendU16(nil, uint16(uid))); err != nil {
			return err
		}
	}
	return d.setStorage(ctx, pairs)
}

// BenchmarkChopsticksNeuronsShape256 decodes 256 typed neurons the way
// spec 293's metadata V15 describes them (record by record, field by name)
// beside the decoder that knows the layout.
func BenchmarkChopsticksNeuronsShape256(b *testing.B) {
	d := getDevnet(b, runtime293Spec)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rt, err := d.client.Runtime(ctx)
	if err != nil {
		b.Fatal(err)
	}
	typed := EncodeNeuronsLite(neurons256(b))
	for _, bc := range []struct {
		name   string
		decode func([]byte) ([]NeuronInfoLite, error)
	}{{"V15Shape", rt.decodeNeuronsLite}, {"KnownLayout", DecodeNeuronsLite}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(typed)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.decode(typed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
