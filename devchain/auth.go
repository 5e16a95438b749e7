package devchain

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
)

// signatureHeader carries the hex sr25519 signature of a call's body.
const signatureHeader = "X-Fractal-Signature"

// signingDomain prefixes every signed body so a devchain signature cannot be
// replayed as any other kind of signed message.
const signingDomain = "fractal-devchain/v1\n"

// envelope is the body of every write: who calls what, when, and a nonce
// that makes the request unique. The signature covers the exact bytes.
type envelope struct {
	Call      string          `json:"call"`
	Signer    string          `json:"signer"`    // SS58 of the calling key
	Timestamp int64           `json:"timestamp"` // unix milliseconds
	Nonce     string          `json:"nonce"`     // 16 random bytes, hex
	Args      json.RawMessage `json:"args"`
}

// signEnvelope encodes a call and signs it with key.
func signEnvelope(key fractal.Signer, call string, args any, now time.Time) (body []byte, sig string, err error) {
	who, err := signerAddr(key, call)
	if err != nil {
		return nil, "", err
	}
	rawArgs, err := json.Marshal(args)
	if err != nil {
		return nil, "", fmt.Errorf("encode %s arguments: %w", call, err)
	}
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, "", err
	}
	env := envelope{Call: call, Signer: who, Timestamp: now.UnixMilli(), Nonce: hex.EncodeToString(nonce[:]), Args: rawArgs}
	if body, err = json.Marshal(env); err != nil {
		return nil, "", err
	}
	s, err := key.Sign(append([]byte(signingDomain), body...))
	if err != nil {
		return nil, "", fmt.Errorf("sign %s with %s: %w", call, who, err)
	}
	return body, "0x" + hex.EncodeToString(s), nil
}

// openEnvelope checks a signed body for call: the signature by the claimed
// signer, the timestamp within skew of now, and a nonce not seen before.
func openEnvelope(v fractal.SignatureVerifier, seen *replayCache, call string, body []byte, sigHex string, now time.Time, skew time.Duration) (*envelope, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("malformed call body: %v: %w", err, fractal.ErrInvalid)
	}
	if env.Call != call {
		return nil, fmt.Errorf("body is signed for call %q, not %q: %w", env.Call, call, fractal.ErrUnauthorized)
	}
	if len(sigHex) > 2 && sigHex[:2] == "0x" {
		sigHex = sigHex[2:]
	}
	sig, err := hex.DecodeString(sigHex)
	if err != nil || sigHex == "" {
		return nil, fmt.Errorf("missing or malformed %s header: %w", signatureHeader, fractal.ErrUnauthorized)
	}
	if err := v.Verify(env.Signer, append([]byte(signingDomain), body...), sig); err != nil {
		return nil, fmt.Errorf("call %s signed by %s: %w", call, env.Signer, err)
	}
	at := time.UnixMilli(env.Timestamp)
	if d := now.Sub(at); d > skew || d < -skew {
		return nil, fmt.Errorf("call %s is stamped %s, %v away from the devchain's clock (allowed ±%v; check the clock): %w",
			call, at.UTC().Format(time.RFC3339), d.Round(time.Millisecond), skew, fractal.ErrUnauthorized)
	}
	if len(env.Nonce) < 16 {
		return nil, fmt.Errorf("call %s: nonce too short: %w", call, fractal.ErrUnauthorized)
	}
	if err := seen.add(env.Signer+"/"+env.Nonce, at.Add(skew), now); err != nil {
		return nil, err
	}
	return &env, nil
}

// replayCache remembers the nonces of accepted calls until their timestamps
// leave the skew window, after which the timestamp check refuses a replay.
type replayCache struct {
	mu      sync.Mutex
	max     int
	expires map[string]time.Time
}

func newReplayCache(max int) *replayCache {
	return &replayCache{max: max, expires: map[string]time.Time{}}
}

func (r *replayCache) add(key string, expires, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.expires[key]; ok {
		return fmt.Errorf("replayed call (nonce already used): %w", fractal.ErrUnauthorized)
	}
	if len(r.expires) >= r.max {
		for k, exp := range r.expires {
			if now.After(exp) {
				delete(r.expires, k)
			}
		}
		if len(r.expires) >= r.max {
			return fmt.Errorf("too many calls within the replay window: %w", fractal.ErrOverloaded)
		}
	}
	r.expires[key] = expires
	return nil
}
