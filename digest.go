package fractal

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// Digest is a SHA-256 value. Its text form is "sha256:<64 hex digits>".
type Digest [32]byte

const digestPrefix = "sha256:"

// String returns "sha256:<hex>".
func (d Digest) String() string { return digestPrefix + hex.EncodeToString(d[:]) }

// IsZero reports whether d is all zeros (unset).
func (d Digest) IsZero() bool { return d == Digest{} }

// MarshalText implements encoding.TextMarshaler.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Digest) UnmarshalText(b []byte) error {
	v, err := ParseDigest(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseDigest parses "sha256:<hex>" (the prefix is optional).
func ParseDigest(s string) (Digest, error) {
	var d Digest
	raw := strings.TrimPrefix(s, digestPrefix)
	if len(raw) != 64 {
		return d, fmt.Errorf("digest %q: want %s followed by 64 hex digits: %w", s, digestPrefix, ErrInvalid)
	}
	if _, err := hex.Decode(d[:], []byte(raw)); err != nil {
		return d, fmt.Errorf("digest %q: %v: %w", s, err, ErrInvalid)
	}
	return d, nil
}
