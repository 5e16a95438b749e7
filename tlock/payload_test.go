package tlock

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

func TestWeightsPayloadEncoding(t *testing.T) {
	hotkey := bytes.Repeat([]byte{7}, 32)
	many := make([]uint16, 70) // 70 entries: the two-byte compact length
	tests := []struct {
		name       string
		p          WeightsPayload
		withHotkey string
		legacy     string
	}{
		{
			name:       "vector",
			p:          WeightsPayload{Hotkey: hotkey, UIDs: []uint16{1, 2}, Values: []uint16{65535, 32768}, VersionKey: 28},
			withHotkey: "80" + hex.EncodeToString(hotkey) + "080100020008ffff00801c00000000000000",
			legacy:     "080100020008ffff00801c00000000000000",
		},
		{
			name:       "empty",
			p:          WeightsPayload{},
			withHotkey: "0000000000000000000000",
			legacy:     "00000000000000000000",
		},
		{
			name:       "two-byte compact length",
			p:          WeightsPayload{UIDs: many, Values: many, VersionKey: 1 << 56},
			withHotkey: "00" + "1901" + hex.EncodeToString(make([]byte, 140)) + "1901" + hex.EncodeToString(make([]byte, 140)) + "0000000000000001",
			legacy:     "1901" + hex.EncodeToString(make([]byte, 140)) + "1901" + hex.EncodeToString(make([]byte, 140)) + "0000000000000001",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.p.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(got) != tt.withHotkey {
				t.Errorf("encode: got %x, want %s", got, tt.withHotkey)
			}
			back, err := DecodeWeightsPayload(got)
			if err != nil || !back.Equal(tt.p) {
				t.Errorf("decode: got %+v, %v; want %+v", back, err, tt.p)
			}
			got, err = tt.p.EncodeLegacy()
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(got) != tt.legacy {
				t.Errorf("encode legacy: got %x, want %s", got, tt.legacy)
			}
			back, err = DecodeLegacyWeightsPayload(got)
			want := tt.p
			want.Hotkey = nil
			if err != nil || !back.Equal(want) {
				t.Errorf("decode legacy: got %+v, %v; want %+v", back, err, want)
			}
		})
	}
}

func TestCompact(t *testing.T) {
	tests := []struct {
		n    uint64
		want string
	}{
		{0, "00"}, {1, "04"}, {63, "fc"}, {64, "0101"}, {16383, "fdff"},
		{16384, "02000100"}, {1<<30 - 1, "feffffff"}, {1 << 30, "0300000040"},
		{1 << 32, "070000000001"}, {^uint64(0), "13ffffffffffffffff"},
	}
	for _, tt := range tests {
		got := appendCompact(nil, tt.n)
		if hex.EncodeToString(got) != tt.want {
			t.Errorf("compact(%d): got %x, want %s", tt.n, got, tt.want)
		}
		r := &scaleReader{b: got}
		back, err := r.compact()
		if err != nil || back != tt.n || r.off != len(got) {
			t.Errorf("decode compact %s: got %d, %v (read %d bytes), want %d", tt.want, back, err, r.off, tt.n)
		}
	}
}

func TestWeightsPayloadRejects(t *testing.T) {
	if _, err := (WeightsPayload{UIDs: []uint16{1}}).Encode(); !errors.Is(err, ErrInvalidPayload) {
		t.Errorf("encode with 1 uid, 0 values: got %v, want %v", err, ErrInvalidPayload)
	}
	tests := []struct {
		name   string
		hex    string
		legacy bool
		want   error
	}{
		{"empty", "", false, ErrMalformed},
		{"hotkey past end", "80070707", false, ErrMalformed},
		{"uids past end", "00" + "0c0100", false, ErrMalformed},
		{"huge uids length", "00" + "13ffffffffffffffff", false, ErrMalformed},
		{"bad compact width", "00" + "ff", false, ErrMalformed},
		{"no version key", "0000", true, ErrMalformed},
		{"trailing byte", "0000000000000000000000", true, ErrMalformed},
		{"length mismatch", "040100" + "00" + "0000000000000000", true, ErrInvalidPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := hex.DecodeString(tt.hex)
			if err != nil {
				t.Fatal(err)
			}
			if tt.legacy {
				_, err = DecodeLegacyWeightsPayload(b)
			} else {
				_, err = DecodeWeightsPayload(b)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func FuzzDecodeWeightsPayload(f *testing.F) {
	f.Add([]byte{0x80}, false)
	f.Add(MustHex(f, "080100020008ffff00801c00000000000000"), true)
	f.Fuzz(func(t *testing.T, b []byte, legacy bool) {
		decode := DecodeWeightsPayload
		encode := WeightsPayload.Encode
		if legacy {
			decode, encode = DecodeLegacyWeightsPayload, WeightsPayload.EncodeLegacy
		}
		p, err := decode(b)
		if err != nil {
			return
		}
		// A decodable payload re-encodes to a decodable equal payload
		// (compact lengths may be written shorter than in b).
		again, err := encode(p)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		q, err := decode(again)
		if err != nil || !q.Equal(p) {
			t.Fatalf("round trip: got %+v, %v; want %+v", q, err, p)
		}
	})
}
