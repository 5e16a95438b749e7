package fractal

import (
	"encoding/hex"
	"fmt"
)

// Receipt is a prover's signed statement of what it computed for a job.
type Receipt struct {
	RequestID  string     `json:"request_id"`
	Miner      string     `json:"miner"` // hotkey SS58
	Profile    string     `json:"profile"`
	SpecHash   Digest     `json:"spec_hash"`
	Commitment Commitment `json:"commitment"`
	Signature  string     `json:"signature"` // 0x-hex sr25519 over Message()
}

// Message returns the bytes that the miner signs.
func (r *Receipt) Message() []byte {
	return fmt.Appendf(nil, "fractal/receipt/v1|%s|%s|%s|%s|%s|%s|%s",
		r.RequestID, r.Miner, r.Profile, r.SpecHash, r.Commitment.FramesDigest, r.Commitment.FramesRoot, r.Commitment.TrajectoryRoot)
}

// Sign fills Miner and Signature with key.
func (r *Receipt) Sign(key Signer) error {
	r.Miner = key.SS58()
	sig, err := key.Sign(r.Message())
	if err != nil {
		return fmt.Errorf("sign receipt: %w", err)
	}
	r.Signature = "0x" + hex.EncodeToString(sig)
	return nil
}

// Verify checks the signature against the receipt's Miner.
func (r *Receipt) Verify(v Verifier) error {
	if len(r.Signature) < 2 || r.Signature[:2] != "0x" {
		return fmt.Errorf("receipt signature: missing 0x prefix: %w", ErrUnauthorized)
	}
	sig, err := hex.DecodeString(r.Signature[2:])
	if err != nil {
		return fmt.Errorf("receipt signature: %v: %w", err, ErrUnauthorized)
	}
	return v.Verify(r.Miner, r.Message(), sig)
}
