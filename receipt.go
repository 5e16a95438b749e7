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
	// Class is the execution class of the engine that computed the result
	// ("" for an engine that computes the same bits everywhere): a checker in
	// another class compares within the profile's cross-class tolerance.
	Class     string `json:"class,omitempty"`
	Signature string `json:"signature"` // 0x-hex sr25519 over Message()
}

// Message returns the bytes that the miner signs: version 1 without a class,
// version 2 with the class appended, so a receipt's class cannot be changed
// without its signature breaking.
func (r *Receipt) Message() []byte {
	b := fmt.Appendf(nil, "fractal/receipt/v1|%s|%s|%s|%s|%s|%s|%s",
		r.RequestID, r.Miner, r.Profile, r.SpecHash, r.Commitment.FramesDigest, r.Commitment.FramesRoot, r.Commitment.TrajectoryRoot)
	if r.Class == "" {
		return b
	}
	b[len("fractal/receipt/v")] = '2'
	return fmt.Appendf(b, "|%s", r.Class)
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
func (r *Receipt) Verify(v SignatureVerifier) error {
	if len(r.Signature) < 2 || r.Signature[:2] != "0x" {
		return fmt.Errorf("receipt signature: missing 0x prefix: %w", ErrUnauthorized)
	}
	sig, err := hex.DecodeString(r.Signature[2:])
	if err != nil {
		return fmt.Errorf("receipt signature: %v: %w", err, ErrUnauthorized)
	}
	return v.Verify(r.Miner, r.Message(), sig)
}
