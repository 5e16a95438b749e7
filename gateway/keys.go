package gateway

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/fractal-grid/fractal"
)

// An API key is "fk_<id>_<secret>". The store keeps only the id and the
// SHA-256 of the whole key, so a stolen store does not give keys away.
const keyPrefix = "fk_"

// Key is an API key's record.
type Key struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Hash       string  `json:"hash"` // hex SHA-256 of the whole key
	Rate       float64 `json:"rate"` // requests per second
	Burst      int     `json:"burst"`
	ActiveJobs int     `json:"active_jobs"` // unfinished jobs at once
	// WebhookSecret signs this key's webhooks (see WebhookSecret).
	WebhookSecret string    `json:"webhook_secret"`
	Created       time.Time `json:"created"`
	Revoked       bool      `json:"revoked,omitempty"`
}

// Keys manages API keys in a KV store.
type Keys struct {
	KV  fractal.KV
	Now func() time.Time
}

func keyRecordKey(id string) string { return "apikey." + id }

func hashKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// Create makes a key and returns its record and the key itself, which is
// shown once and never stored.
func (k *Keys) Create(ctx context.Context, name string, rate float64, burst, active int) (Key, string, error) {
	if name == "" || len(name) > 64 {
		return Key{}, "", fractal.Errorf("name", "must be 1–64 characters")
	}
	if rate <= 0 || burst < 1 || active < 1 {
		return Key{}, "", fractal.Errorf("rate", "rate, burst and active jobs must be positive")
	}
	id := randomToken(10)
	secret := keyPrefix + id + "_" + randomToken(20)
	rec := Key{ID: id, Name: name, Hash: hashKey(secret), Rate: rate, Burst: burst, ActiveJobs: active,
		WebhookSecret: WebhookSecret(secret), Created: k.Now().UTC()}
	b, _ := json.Marshal(rec)
	if _, err := k.KV.Put(ctx, keyRecordKey(id), b); err != nil {
		return Key{}, "", fmt.Errorf("store api key: %w", err)
	}
	return rec, secret, nil
}

// Get returns a key's record.
func (k *Keys) Get(ctx context.Context, id string) (Key, error) {
	if err := fractal.ValidateToken("key", id); err != nil {
		return Key{}, fmt.Errorf("api key %q: %w", id, fractal.ErrNotFound)
	}
	e, err := k.KV.Get(ctx, keyRecordKey(id))
	if err != nil {
		return Key{}, err
	}
	var rec Key
	if err := json.Unmarshal(e.Value, &rec); err != nil {
		return Key{}, fmt.Errorf("api key %s: %w", id, err)
	}
	return rec, nil
}

// List returns every key's record, by creation time.
func (k *Keys) List(ctx context.Context) ([]Key, error) {
	ids, err := k.KV.Keys(ctx, "apikey.")
	if err != nil {
		return nil, err
	}
	var out []Key
	for _, key := range ids {
		rec, err := k.Get(ctx, strings.TrimPrefix(key, "apikey."))
		if err != nil {
			if errors.Is(err, fractal.ErrNotFound) {
				continue
			}
			return nil, err
		}
		out = append(out, rec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

// Revoke disables a key for good.
func (k *Keys) Revoke(ctx context.Context, id string) error {
	rec, err := k.Get(ctx, id)
	if err != nil {
		return err
	}
	rec.Revoked = true
	b, _ := json.Marshal(rec)
	_, err = k.KV.Put(ctx, keyRecordKey(id), b)
	return err
}

// Authenticate checks a presented key and returns its record. Every
// failure wraps fractal.ErrUnauthorized and says nothing about which part
// was wrong.
func (k *Keys) Authenticate(ctx context.Context, presented string) (Key, error) {
	bad := fmt.Errorf("invalid or revoked API key: %w", fractal.ErrUnauthorized)
	rest, ok := strings.CutPrefix(presented, keyPrefix)
	if !ok {
		return Key{}, bad
	}
	id, _, ok := strings.Cut(rest, "_")
	if !ok {
		return Key{}, bad
	}
	rec, err := k.Get(ctx, id)
	if err != nil {
		if errors.Is(err, fractal.ErrNotFound) {
			return Key{}, bad
		}
		return Key{}, err
	}
	if subtle.ConstantTimeCompare([]byte(rec.Hash), []byte(hashKey(presented))) != 1 || rec.Revoked {
		return Key{}, bad
	}
	return rec, nil
}
