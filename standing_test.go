package fractal_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
)

func TestStandingValidate(t *testing.T) {
	ok := fractal.Standing{Hotkey: "5Miner", Passed: 3, Success: 0.9, Tier: 1, Profiles: []string{"ref@1", "ref@2"}}
	cases := []struct {
		name   string
		change func(*fractal.Standing)
		field  string // "" when valid
	}{
		{"valid", func(*fractal.Standing) {}, ""},
		{"never checked", func(s *fractal.Standing) { s.Passed, s.Success, s.Profiles = 0, 0, nil }, ""},
		{"no hotkey", func(s *fractal.Standing) { s.Hotkey = "" }, "hotkey"},
		{"negative passes", func(s *fractal.Standing) { s.Passed = -1 }, "passed"},
		{"success above 1", func(s *fractal.Standing) { s.Success = 1.5 }, "success"},
		{"success NaN", func(s *fractal.Standing) { s.Success = math.NaN() }, "success"},
		{"negative tier", func(s *fractal.Standing) { s.Tier = -1 }, "tier"},
		{"profile without version", func(s *fractal.Standing) { s.Profiles = []string{"ref"} }, "profiles"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := ok
			c.change(&s)
			err := s.Validate()
			if c.field == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			var fe *fractal.FieldError
			if !errors.As(err, &fe) || fe.Field != c.field || !errors.Is(err, fractal.ErrInvalid) {
				t.Fatalf("got %v, want a FieldError on %q wrapping ErrInvalid", err, c.field)
			}
		})
	}
}

func TestStandingVerified(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	cases := []struct {
		name string
		s    fractal.Standing
		want bool
	}{
		{"passed", fractal.Standing{Passed: 1}, true},
		{"never passed", fractal.Standing{Passed: 0, Success: 1}, false},
		{"cooling down", fractal.Standing{Passed: 9, CooldownUntil: now.Add(time.Second)}, false},
		{"cooldown ends now", fractal.Standing{Passed: 9, CooldownUntil: now}, true},
		{"cooldown over", fractal.Standing{Passed: 9, CooldownUntil: now.Add(-time.Hour)}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.s.Verified(now); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestStandingPassedOn(t *testing.T) {
	s := fractal.Standing{Profiles: []string{"ref@1", "wan@2.1"}}
	for profile, want := range map[string]bool{"ref@1": true, "wan@2.1": true, "ref@2": false, "ref": false, "": false} {
		if got := s.PassedOn(profile); got != want {
			t.Errorf("PassedOn(%q): got %v, want %v", profile, got, want)
		}
	}
}

func TestKVStandingsRoundTrip(t *testing.T) {
	ctx := context.Background()
	kv := newMemKV()
	pub := &fractal.KVStandings{KV: kv, NetUID: 7}
	got, err := pub.Standings(ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("before a publication: got %v, %v; want no standings and no error", got, err)
	}
	at := time.Unix(1_700_000_000, 0).UTC()
	want := map[string]fractal.Standing{
		"5A": {Hotkey: "5A", Passed: 12, Success: 0.97, Tier: 2, Profiles: []string{"ref@1"}, Updated: at},
		"5B": {Hotkey: "5B", Passed: 1, Success: 0, Tier: 0, CooldownUntil: at.Add(6 * time.Hour), Updated: at},
	}
	if err := pub.Publish(ctx, want, at); err != nil {
		t.Fatal(err)
	}
	if keys := kv.keys(); !reflect.DeepEqual(keys, []string{"standings.7"}) {
		t.Fatalf("keys %v, want the one record standings.7", keys)
	}
	// Another process, another subnet.
	if got, err := (&fractal.KVStandings{KV: kv, NetUID: 8}).Standings(ctx); err != nil || len(got) != 0 {
		t.Fatalf("subnet 8: got %v, %v; want nothing", got, err)
	}
	got, err = (&fractal.KVStandings{KV: kv, NetUID: 7}).Standings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	// A later publication replaces the whole record: a miner the validator
	// no longer reports is gone.
	delete(want, "5B")
	if err := pub.Publish(ctx, want, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, err = pub.Standings(ctx); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("after republishing: got %+v, %v; want %+v", got, err, want)
	}
}

func TestKVStandingsRefusesBadRecords(t *testing.T) {
	ctx := context.Background()
	at := time.Unix(1_700_000_000, 0)
	pub := &fractal.KVStandings{KV: newMemKV(), NetUID: 1}
	bad := map[string]map[string]fractal.Standing{
		"filed under another hotkey": {"5A": {Hotkey: "5B", Passed: 1}},
		"invalid standing":           {"5A": {Hotkey: "5A", Success: 2}},
	}
	for name, st := range bad {
		t.Run("publish "+name, func(t *testing.T) {
			if err := pub.Publish(ctx, st, at); !errors.Is(err, fractal.ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
		})
	}
	records := map[string]string{
		"not JSON":         `{"miners": [`,
		"invalid standing": `{"published": "2026-01-01T00:00:00Z", "miners": [{"hotkey": "5A", "tier": -3}]}`,
	}
	for name, rec := range records {
		t.Run("read "+name, func(t *testing.T) {
			kv := newMemKV()
			kv.Put(ctx, fractal.StandingsKey(1), []byte(rec))
			got, err := (&fractal.KVStandings{KV: kv, NetUID: 1}).Standings(ctx)
			if !errors.Is(err, fractal.ErrInvalid) || got != nil {
				t.Fatalf("got %v, %v; want no standings and ErrInvalid", got, err)
			}
		})
	}
	t.Run("read through a failing store", func(t *testing.T) {
		kv := newMemKV()
		kv.err = fractal.ErrUnavailable
		if _, err := (&fractal.KVStandings{KV: kv, NetUID: 1}).Standings(ctx); !errors.Is(err, fractal.ErrUnavailable) {
			t.Fatalf("got %v, want the store's error", err)
		}
	})
}

// memKV is an in-memory fractal.KV for tests of code written over the
// interface. err, when set, fails every call.
type memKV struct {
	mu  sync.Mutex
	m   map[string]fractal.Entry
	rev uint64
	err error
}

func newMemKV() *memKV { return &memKV{m: map[string]fractal.Entry{}} }

func (k *memKV) Get(ctx context.Context, key string) (fractal.Entry, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.err != nil {
		return fractal.Entry{}, k.err
	}
	e, ok := k.m[key]
	if !ok {
		return fractal.Entry{}, fractal.ErrNotFound
	}
	return e, nil
}

func (k *memKV) Put(ctx context.Context, key string, value []byte) (uint64, error) {
	if err := fractal.ValidateKey(key); err != nil {
		return 0, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.err != nil {
		return 0, k.err
	}
	k.rev++
	k.m[key] = fractal.Entry{Key: key, Value: append([]byte(nil), value...), Revision: k.rev}
	return k.rev, nil
}

func (k *memKV) Delete(ctx context.Context, key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, key)
	return k.err
}

func (k *memKV) Keys(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	for _, key := range k.keys() {
		if strings.HasPrefix(key, prefix) {
			out = append(out, key)
		}
	}
	return out, k.err
}

func (k *memKV) Watch(ctx context.Context, prefix string) (<-chan fractal.Entry, error) {
	return nil, errors.ErrUnsupported
}

func (k *memKV) keys() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]string, 0, len(k.m))
	for key := range k.m {
		out = append(out, key)
	}
	sort.Strings(out)
	return out
}
