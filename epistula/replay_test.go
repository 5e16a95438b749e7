package epistula_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/epistula"
	"github.com/fractal-grid/fractal/internal/testenv"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func signAt(t *testing.T, at time.Time, self string) http.Header {
	t.Helper()
	h, err := epistula.Sign(testenv.Key(t, "//Alice"), []byte("b"), self, at)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// A request is remembered exactly as long as its timestamp is fresh: a
// replay inside the window is refused as a replay, after it as stale, and
// the cache frees its room then.
func TestReplayWindow(t *testing.T) {
	bob := testenv.Key(t, "//Bob").SS58()
	cfg := epistula.DefaultConfig(bob)
	cfg.ReplayEntries, cfg.ReplayPerSigner = 1, 1
	v, err := epistula.NewAuthenticator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.UnixMilli(1_795_686_155_834)
	clk := &clock{start}
	v.Now = clk.now
	win := cfg.Window

	// Signed one window ahead of the receiver's clock: still fresh until
	// two windows from now, so it must be remembered that long.
	ahead := signAt(t, start.Add(win), bob)
	if _, err := v.Check(ahead, []byte("b")); err != nil {
		t.Fatalf("request signed %v ahead: %v", win, err)
	}
	clk.t = start.Add(2*win - time.Millisecond)
	if _, err := v.Check(ahead, []byte("b")); !errors.Is(err, epistula.ErrReplay) {
		t.Errorf("replay just before expiry: got %v, want ErrReplay", err)
	}
	if _, err := v.Check(signAt(t, clk.t, bob), []byte("b")); !errors.Is(err, fractal.ErrOverloaded) {
		t.Errorf("new request while the cache is full: got %v, want ErrOverloaded", err)
	}
	clk.t = start.Add(2*win + time.Millisecond)
	if _, err := v.Check(ahead, []byte("b")); !errors.Is(err, epistula.ErrStale) {
		t.Errorf("replay after expiry: got %v, want ErrStale", err)
	}
	if _, err := v.Check(signAt(t, clk.t, bob), []byte("b")); err != nil {
		t.Errorf("new request after the old one expired: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	bob := testenv.Key(t, "//Bob").SS58()
	for _, tc := range []struct {
		name string
		edit func(*epistula.Config)
		ok   bool
	}{
		{"default", func(*epistula.Config) {}, true},
		{"no self", func(c *epistula.Config) { c.Self = "" }, false},
		{"no self, unaddressed", func(c *epistula.Config) { c.Self, c.AllowUnaddressed = "", true }, true},
		{"bad self", func(c *epistula.Config) { c.Self = "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5" }, false},
		{"zero window", func(c *epistula.Config) { c.Window = 0 }, false},
		{"zero body", func(c *epistula.Config) { c.MaxBody = 0 }, false},
		{"zero cache", func(c *epistula.Config) { c.ReplayEntries = 0 }, false},
		{"share above cache", func(c *epistula.Config) { c.ReplayPerSigner = c.ReplayEntries + 1 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := epistula.DefaultConfig(bob)
			tc.edit(&cfg)
			_, err := epistula.NewAuthenticator(cfg)
			if tc.ok && err != nil {
				t.Errorf("got %v, want no error", err)
			}
			if !tc.ok && !errors.Is(err, fractal.ErrInvalid) {
				t.Errorf("got %v, want ErrInvalid", err)
			}
		})
	}
}

// Headers that are missing, repeated or malformed are refused before any
// signature work.
func TestMalformedHeaders(t *testing.T) {
	bob := testenv.Key(t, "//Bob").SS58()
	now := time.Now()
	for _, tc := range []struct {
		name string
		edit func(http.Header)
		want error
	}{
		{"no version", func(h http.Header) { h.Del(epistula.HeaderVersion) }, epistula.ErrMissingHeader},
		{"version 1", func(h http.Header) { h.Set(epistula.HeaderVersion, "1") }, epistula.ErrVersion},
		{"no uuid", func(h http.Header) { h.Del(epistula.HeaderUUID) }, epistula.ErrMissingHeader},
		{"no signed-for", func(h http.Header) { h.Del(epistula.HeaderSignedFor) }, epistula.ErrMissingHeader},
		{"two signatures", func(h http.Header) { h.Add(epistula.HeaderSignature, h.Get(epistula.HeaderSignature)) }, epistula.ErrMalformed},
		{"seconds timestamp", func(h http.Header) { h.Set(epistula.HeaderTimestamp, "1795686155") }, epistula.ErrStale},
		{"text timestamp", func(h http.Header) { h.Set(epistula.HeaderTimestamp, "soon") }, epistula.ErrMalformed},
		{"negative timestamp", func(h http.Header) { h.Set(epistula.HeaderTimestamp, "-5") }, epistula.ErrMalformed},
		{"bad uuid", func(h http.Header) { h.Set(epistula.HeaderUUID, "not-a-uuid") }, epistula.ErrMalformed},
		{"bad signer", func(h http.Header) { h.Set(epistula.HeaderSignedBy, "5nope") }, epistula.ErrMalformed},
		{"polkadot signer", func(h http.Header) {
			h.Set(epistula.HeaderSignedBy, "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5")
		}, epistula.ErrMalformed},
		{"empty signature", func(h http.Header) { h.Set(epistula.HeaderSignature, "") }, epistula.ErrMalformed},
		{"long signature", func(h http.Header) { h.Set(epistula.HeaderSignature, h.Get(epistula.HeaderSignature)+"00") }, epistula.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := signAt(t, now, bob)
			tc.edit(h)
			if _, err := epistula.Verify(h, []byte("b"), now, bob); !errors.Is(err, tc.want) || !errors.Is(err, fractal.ErrUnauthorized) {
				t.Errorf("got %v, want %v wrapping ErrUnauthorized", err, tc.want)
			}
		})
	}
	if _, err := epistula.Verify(signAt(t, now, bob), []byte("b"), now, bob); err != nil {
		t.Errorf("unedited headers refused: %v", err)
	}
}
