package subtensor

import (
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/fractal-grid/fractal/sr25519"
)

type neuronsVector struct {
	ResultHex string `json:"result_hex"`
	InnerHex  string `json:"inner_hex"`
	Decoded   []struct {
		UID    uint16 `json:"uid"`
		NetUID uint16 `json:"netuid"`
		Hotkey struct {
			PublicKeyHex string `json:"public_key_hex"`
		} `json:"hotkey"`
		Coldkey struct {
			PublicKeyHex string `json:"public_key_hex"`
		} `json:"coldkey"`
		Active bool `json:"active"`
		Axon   struct {
			Block    uint64 `json:"block"`
			Version  uint32 `json:"version"`
			IPU128   uint64 `json:"ip_u128_decimal,string"`
			IP       string `json:"ip"`
			Port     uint16 `json:"port"`
			IPType   uint8  `json:"ip_type"`
			Protocol uint8  `json:"protocol"`
		} `json:"axon_info"`
		Stake []struct {
			Coldkey struct {
				PublicKeyHex string `json:"public_key_hex"`
			} `json:"coldkey"`
			Amount uint64 `json:"amount_rao"`
		} `json:"stake"`
		Rank            uint16 `json:"rank"`
		Emission        uint64 `json:"emission"`
		Incentive       uint16 `json:"incentive"`
		Consensus       uint16 `json:"consensus"`
		Trust           uint16 `json:"trust"`
		ValidatorTrust  uint16 `json:"validator_trust"`
		Dividends       uint16 `json:"dividends"`
		LastUpdate      uint64 `json:"last_update"`
		ValidatorPermit bool   `json:"validator_permit"`
		PruningScore    uint16 `json:"pruning_score"`
	} `json:"decoded"`
}

func devKey(tb testing.TB, uri string) [32]byte {
	tb.Helper()
	k, err := sr25519.FromURI(uri)
	if err != nil {
		tb.Fatal(err)
	}
	return k.PublicKey()
}

// TestDecodeNeuronsLiteTable checks the decode of both encodings against the
// expectation table of the recorded subnet (uid, keys, axon, permit, stake).
func TestDecodeNeuronsLiteTable(t *testing.T) {
	var v neuronsVector
	vector(t, "neurons_lite.json", &v)
	type want struct {
		hotkey, coldkey string
		axon            string // ip:port, "" when none served
		version         uint32
		protocol        uint8
		permit, active  bool
		stakeFrom       string
		stake           uint64
	}
	table := []want{
		{"//Bob", "//Alice", "127.0.0.2:8091", 9001, 4, true, true, "//Alice", 1e12},
		{"//Charlie", "//Alice", "127.0.0.2:8092", 9002, 4, false, true, "//Alice", 0},
		{"//Dave", "//Eve", "", 0, 0, false, true, "//Eve", 0},
	}
	for _, enc := range []struct{ name, hex string }{{"wrapped", v.ResultHex}, {"typed", v.InnerHex}} {
		t.Run(enc.name, func(t *testing.T) {
			got, err := DecodeNeuronsLite(mustHex(t, enc.hex))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(table) {
				t.Fatalf("got %d neurons, want %d", len(got), len(table))
			}
			for uid, w := range table {
				n := got[uid]
				if n.UID != uint16(uid) || n.NetUID != 2 {
					t.Errorf("neuron %d: got uid %d netuid %d, want %d and 2", uid, n.UID, n.NetUID, uid)
				}
				if n.Hotkey != devKey(t, w.hotkey) || n.Coldkey != devKey(t, w.coldkey) {
					t.Errorf("uid %d: got hotkey %x coldkey %x, want %s and %s", uid, n.Hotkey, n.Coldkey, w.hotkey, w.coldkey)
				}
				fn := n.Neuron()
				gotAxon := ""
				if fn.Axon.Served() {
					gotAxon = fn.Axon.AddrPort().String()
				}
				if gotAxon != w.axon || fn.Axon.Version != w.version || fn.Axon.Protocol != w.protocol {
					t.Errorf("uid %d: got axon %q v%d p%d, want %q v%d p%d", uid, gotAxon, fn.Axon.Version, fn.Axon.Protocol, w.axon, w.version, w.protocol)
				}
				if n.ValidatorPermit != w.permit || n.Active != w.active {
					t.Errorf("uid %d: got permit %v active %v, want %v %v", uid, n.ValidatorPermit, n.Active, w.permit, w.active)
				}
				if len(n.Stake) != 1 || n.Stake[0].Coldkey != devKey(t, w.stakeFrom) || n.Stake[0].Amount != w.stake {
					t.Errorf("uid %d: got stake %+v, want %s %d", uid, n.Stake, w.stakeFrom, w.stake)
				}
				if fn.Stake != w.stake || fn.Hotkey != sr25519.SS58(devKey(t, w.hotkey)) {
					t.Errorf("uid %d: got domain stake %d hotkey %s", uid, fn.Stake, fn.Hotkey)
				}
			}
		})
	}
}

// TestDecodeNeuronsLiteFields compares every field with the recorded decode.
func TestDecodeNeuronsLiteFields(t *testing.T) {
	var v neuronsVector
	vector(t, "neurons_lite.json", &v)
	got, err := DecodeNeuronsLite(mustHex(t, v.ResultHex))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(v.Decoded) {
		t.Fatalf("got %d neurons, want %d", len(got), len(v.Decoded))
	}
	for i, w := range v.Decoded {
		n := got[i]
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			checks := []struct {
				field     string
				got, want any
			}{
				{"hotkey", "0x" + hex.EncodeToString(n.Hotkey[:]), w.Hotkey.PublicKeyHex},
				{"coldkey", "0x" + hex.EncodeToString(n.Coldkey[:]), w.Coldkey.PublicKeyHex},
				{"uid", n.UID, w.UID}, {"netuid", n.NetUID, w.NetUID}, {"active", n.Active, w.Active},
				{"axon.block", n.Axon.Block, w.Axon.Block}, {"axon.version", n.Axon.Version, w.Axon.Version},
				{"axon.ip", n.Axon.Addr().String(), strings.ReplaceAll(w.Axon.IP, "0.0.0.0", "invalid IP")},
				{"axon.port", n.Axon.Port, w.Axon.Port}, {"axon.ip_type", n.Axon.IPType, w.Axon.IPType},
				{"axon.protocol", n.Axon.Protocol, w.Axon.Protocol},
				{"rank", n.Rank, w.Rank}, {"emission", n.Emission, w.Emission}, {"incentive", n.Incentive, w.Incentive},
				{"consensus", n.Consensus, w.Consensus}, {"trust", n.Trust, w.Trust},
				{"validator_trust", n.ValidatorTrust, w.ValidatorTrust}, {"dividends", n.Dividends, w.Dividends},
				{"last_update", n.LastUpdate, w.LastUpdate}, {"validator_permit", n.ValidatorPermit, w.ValidatorPermit},
				{"pruning_score", n.PruningScore, w.PruningScore}, {"stake entries", len(n.Stake), len(w.Stake)},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s: got %v, want %v", c.field, c.got, c.want)
				}
			}
			ip, _ := ipToU128(n.Axon.Addr())
			if w.Axon.IPU128 != 0 && ip != n.Axon.IP {
				t.Errorf("ipToU128(%s) = %x, want %x", n.Axon.Addr(), ip, n.Axon.IP)
			}
		})
	}
}

// TestNeuronsLiteRoundTrip re-encodes the decoded neurons and expects the
// recorded bytes back.
func TestNeuronsLiteRoundTrip(t *testing.T) {
	var v neuronsVector
	vector(t, "neurons_lite.json", &v)
	got, err := DecodeNeuronsLite(mustHex(t, v.InnerHex))
	if err != nil {
		t.Fatal(err)
	}
	if enc := "0x" + hex.EncodeToString(EncodeNeuronsLite(got)); enc != v.InnerHex {
		t.Errorf("got %s, want %s", enc, v.InnerHex)
	}
}

func TestDecodeNeuronsLiteMalformed(t *testing.T) {
	var v neuronsVector
	vector(t, "neurons_lite.json", &v)
	inner := mustHex(t, v.InnerHex)
	tests := []struct {
		name string
		in   []byte
	}{
		{"truncated", inner[:len(inner)-5]},
		{"trailing bytes", append(append([]byte{}, inner...), 1, 2)},
		{"huge count", []byte{0xff, 0xff, 0xff, 0x7f, 0, 0}},
		{"bad bool", func() []byte { b := append([]byte{}, inner...); b[1+32+32+1+1] = 7; return b }()},
		{"empty input", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := DecodeNeuronsLite(tt.in); err == nil {
				t.Errorf("got %d neurons and no error", len(got))
			}
		})
	}
	for _, empty := range [][]byte{{0x00}, {0x04, 0x00}} {
		got, err := DecodeNeuronsLite(empty)
		if err != nil || len(got) != 0 {
			t.Errorf("DecodeNeuronsLite(%x) = %d neurons, %v; want none", empty, len(got), err)
		}
	}
}

func TestIPU128(t *testing.T) {
	for _, s := range []string{"127.0.0.2", "10.1.2.3", "2001:db8::1", "::2"} {
		a := netip.MustParseAddr(s)
		ip, typ := ipToU128(a)
		if got := ipFromU128(ip, typ); got != a {
			t.Errorf("%s: round trip gave %s (type %d)", s, got, typ)
		}
	}
}
