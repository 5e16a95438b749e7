package subtensor

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzDecodeNeuronsLite decodes arbitrary bytes as get_neurons_lite. Never a
// panic; what decodes re-encodes to bytes that decode to the same neurons
// (in both the typed and the Vec<u8>-wrapped form); every neuron converts
// to the domain type.
func FuzzDecodeNeuronsLite(f *testing.F) {
	n := NeuronInfoLite{UID: 3, NetUID: 1, Active: true, ValidatorPermit: true, Emission: 1 << 40, LastUpdate: 77,
		Stake: []StakeEntry{{Amount: 5}, {Amount: 1 << 62}}}
	n.Hotkey[0], n.Coldkey[31] = 1, 2
	n.Axon.IP[15], n.Axon.IPType, n.Axon.Port, n.Axon.Protocol = 7, 4, 8091, 4
	typed := EncodeNeuronsLite([]NeuronInfoLite{n, {UID: 65535}})
	f.Add(typed)
	f.Add(wrap(typed))
	f.Add([]byte{0x00})
	f.Add([]byte{0x04, 0x00})
	f.Add([]byte{0xff, 0xff, 0xff, 0x7f, 0, 0})
	f.Add(typed[:len(typed)-3])
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := DecodeNeuronsLite(b)
		if err != nil {
			if got != nil {
				t.Fatalf("got %d neurons with error %v", len(got), err)
			}
			return
		}
		enc := EncodeNeuronsLite(got)
		for _, in := range [][]byte{enc, wrap(enc)} {
			again, err := DecodeNeuronsLite(in)
			if err != nil {
				t.Fatalf("re-encoded neurons do not decode: %v", err)
			}
			if !reflect.DeepEqual(normalize(again), normalize(got)) {
				t.Fatalf("round trip: got %+v, want %+v", again, got)
			}
		}
		if !bytes.Equal(EncodeNeuronsLite(got), enc) {
			t.Fatal("encoding is not deterministic")
		}
		for i := range got {
			nn := got[i].Neuron()
			if nn.UID != got[i].UID || nn.Stake != got[i].TotalStake() {
				t.Fatalf("neuron %d: domain uid %d stake %d, want %d and %d", i, nn.UID, nn.Stake, got[i].UID, got[i].TotalStake())
			}
		}
	})
}

// wrap encodes b as a SCALE Vec<u8>, the form older runtimes return.
func wrap(b []byte) []byte { return append(appendCompact(nil, uint64(len(b))), b...) }

// normalize makes empty stake lists nil, so decodes compare equal.
func normalize(ns []NeuronInfoLite) []NeuronInfoLite {
	out := append([]NeuronInfoLite(nil), ns...)
	for i := range out {
		if len(out[i].Stake) == 0 {
			out[i].Stake = nil
		}
	}
	return out
}
