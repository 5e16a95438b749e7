package tlock

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
)

// drand quicknet, the beacon Bittensor's Drand pallet stores pulses of.
const (
	// QuicknetChainHash identifies the beacon chain (hex).
	QuicknetChainHash = "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971"
	// QuicknetPublicKey is the beacon's public key, a compressed G2 point (hex).
	QuicknetPublicKey = "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c" +
		"8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb" +
		"5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a"
	// QuicknetGenesis is the Unix time, in seconds, of round 1.
	QuicknetGenesis int64 = 1692803367
	// QuicknetPeriod is the time between rounds.
	QuicknetPeriod = 3 * time.Second
	// QuicknetScheme is drand's name for quicknet's signature scheme:
	// unchained rounds, signatures on G1, hash to curve per RFC 9380.
	QuicknetScheme = "bls-unchained-g1-rfc9380"
	// QuicknetDST is the RFC 9380 domain separation tag of the hash to G1.
	QuicknetDST = "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"
)

// RoundAt is the latest quicknet round whose beacon is due at or before t;
// 0 before genesis.
func RoundAt(t time.Time) uint64 {
	since := t.Sub(time.Unix(QuicknetGenesis, 0))
	if since < 0 {
		return 0
	}
	return uint64(since/QuicknetPeriod) + 1
}

// TimeOf is when quicknet round is due. Round 0 has no beacon; TimeOf(0) is
// one period before genesis.
func TimeOf(round uint64) time.Time {
	return time.Unix(QuicknetGenesis, 0).Add(time.Duration(int64(round)-1) * QuicknetPeriod)
}

// RoundMessage is what quicknet signs for round: sha256 of the round as a
// u64 big-endian. It is also the timelock identity of the round.
func RoundMessage(round uint64) [32]byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], round)
	return sha256.Sum256(b[:])
}

// identityPoint is Q_id, the round's message hashed to G1.
func identityPoint(round uint64) (g1, error) {
	m := RoundMessage(round)
	p, err := bls.HashToG1(m[:], []byte(QuicknetDST))
	if err != nil {
		return g1{}, fmt.Errorf("hash round %d to g1: %w", round, err)
	}
	return p, nil
}

// VerifyBeacon checks that signature is the beacon signature of round under
// the public key pk (both compressed): e(sig, G2) = e(H(round), pk). A
// signature that verifies decrypts every ciphertext sealed for its round.
func VerifyBeacon(pk []byte, round uint64, signature []byte) error {
	pub, err := decodeG2(pk)
	if err != nil {
		return fmt.Errorf("public key: %w", err)
	}
	sig, err := decodeG1(signature)
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	qid, err := identityPoint(round)
	if err != nil {
		return err
	}
	_, _, _, gen := bls.Generators()
	var negGen g2
	negGen.Neg(&gen)
	ok, err := bls.PairingCheck([]g1{sig, qid}, []g2{negGen, pub})
	if err != nil {
		return fmt.Errorf("pairing: %w", err)
	}
	if !ok {
		return fmt.Errorf("round %d: %w", round, ErrWrongSignature)
	}
	return nil
}
