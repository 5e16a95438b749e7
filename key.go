package fractal

// Signer is a key that can sign: an sr25519 hotkey or coldkey.
type Signer interface {
	// SS58 returns the address (network prefix 42).
	SS58() string
	// PublicKey returns the 32-byte public key.
	PublicKey() [32]byte
	// Sign signs msg with the "substrate" signing context.
	Sign(msg []byte) ([]byte, error)
}

// SignatureVerifier checks signatures made by a Signer.
type SignatureVerifier interface {
	// Verify checks an sr25519 signature by ss58 over msg; errors wrap
	// ErrUnauthorized.
	Verify(ss58 string, msg, sig []byte) error
}
