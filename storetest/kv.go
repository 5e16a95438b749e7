package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
)

// KV runs the fractal.KV contract, and the fractal.KVUpdater one when the
// implementation has it. newKV returns an empty bucket for each subtest.
func KV(t *testing.T, newKV func(t *testing.T) fractal.KV) {
	t.Run("PutGetDelete", func(t *testing.T) {
		kv, ctx := newKV(t), Context(t, 30*time.Second)
		rev1, err := kv.Put(ctx, "score.12", []byte(`{"score":0.5}`))
		must(t, err)
		rev2, err := kv.Put(ctx, "score.12", []byte(`{"score":0.7}`))
		must(t, err)
		if rev2 <= rev1 {
			t.Fatalf("got revision %d after %d, want it to grow", rev2, rev1)
		}
		e, err := kv.Get(ctx, "score.12")
		must(t, err)
		if string(e.Value) != `{"score":0.7}` || e.Revision != rev2 || e.Key != "score.12" || e.Deleted {
			t.Fatalf("got %+v, want score.12 = {\"score\":0.7} at revision %d", e, rev2)
		}
		must(t, kv.Delete(ctx, "score.12"))
		_, err = kv.Get(ctx, "score.12")
		wantErr(t, err, fractal.ErrNotFound)
		must(t, kv.Delete(ctx, "never.written"))
	})
	t.Run("InvalidKeys", func(t *testing.T) {
		kv, ctx := newKV(t), Context(t, 30*time.Second)
		for _, key := range []string{"", "a..b", ".a", "a.", "has space", "star.*", "ünïcode"} {
			if _, err := kv.Put(ctx, key, nil); err == nil {
				t.Errorf("put %q: got no error, want %v", key, fractal.ErrInvalid)
			}
			_, err := kv.Get(ctx, key)
			wantErr(t, err, fractal.ErrInvalid)
		}
		_, err := kv.Keys(ctx, "score")
		wantErr(t, err, fractal.ErrInvalid)
	})
	t.Run("Keys", func(t *testing.T) {
		kv, ctx := newKV(t), Context(t, 30*time.Second)
		for _, k := range []string{"miner.2", "miner.10", "apikey.x", "miner.1"} {
			_, err := kv.Put(ctx, k, []byte("{}"))
			must(t, err)
		}
		must(t, kv.Delete(ctx, "miner.1"))
		tests := []struct {
			prefix string
			want   []string
		}{
			{"miner.", []string{"miner.10", "miner.2"}},
			{"", []string{"apikey.x", "miner.10", "miner.2"}},
			{"nothing.", nil},
		}
		for _, tt := range tests {
			got, err := kv.Keys(ctx, tt.prefix)
			must(t, err)
			if !slices.Equal(got, tt.want) {
				t.Errorf("keys %q: got %v, want %v", tt.prefix, got, tt.want)
			}
		}
	})
	t.Run("Watch", func(t *testing.T) { testKVWatch(t, newKV(t)) })
	t.Run("Update", func(t *testing.T) {
		kv := newKV(t)
		up, ok := kv.(fractal.KVUpdater)
		if !ok {
			t.Fatalf("got %T without Update, want every store KV to implement fractal.KVUpdater", kv)
		}
		testKVUpdate(t, kv, up)
	})
}

func testKVWatch(t *testing.T, kv fractal.KV) {
	ctx := Context(t, 30*time.Second)
	_, err := kv.Put(ctx, "grid.1", []byte("a"))
	must(t, err)
	_, err = kv.Put(ctx, "other.1", []byte("x"))
	must(t, err)
	wctx, stop := context.WithCancel(ctx)
	ch, err := kv.Watch(wctx, "grid.")
	must(t, err)
	wantEntry(t, ch, "grid.1", "a", false)
	_, err = kv.Put(ctx, "grid.2", []byte("b"))
	must(t, err)
	_, err = kv.Put(ctx, "other.1", []byte("y")) // outside the prefix: not delivered
	must(t, err)
	_, err = kv.Put(ctx, "grid.1", []byte("c"))
	must(t, err)
	must(t, kv.Delete(ctx, "grid.2"))
	wantChanges(t, ch, map[string][]string{"grid.1": {"c"}, "grid.2": {"b", ""}})
	stop()
	for range ch { // drains until the watcher closes the channel
	}
}

// wantChanges reads entries until every key in want has reached the last of
// its values ("" is a deletion). A key's entries must be a subsequence of its
// values ending with the last, with rising revisions: a watcher may collapse
// changes into the latest, but never reorders, invents or loses the latest.
func wantChanges(t *testing.T, ch <-chan fractal.Entry, want map[string][]string) {
	t.Helper()
	next := map[string]int{} // index into want[key] of the next allowed value
	revs := map[string]uint64{}
	done := func() bool {
		for k, vs := range want {
			if next[k] < len(vs) {
				return false
			}
		}
		return true
	}
	timeout := time.After(5 * time.Second)
	for !done() {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatalf("got a closed channel, want %v", want)
			}
			vs, known := want[e.Key]
			if !known {
				t.Fatalf("got %s=%q, a key outside the prefix or never changed", e.Key, e.Value)
			}
			if e.Revision <= revs[e.Key] {
				t.Fatalf("got %s=%q deleted=%v at revision %d after revision %d", e.Key, e.Value, e.Deleted, e.Revision, revs[e.Key])
			}
			revs[e.Key] = e.Revision
			i := next[e.Key]
			for i < len(vs) && (vs[i] != string(e.Value) || (vs[i] == "") != e.Deleted) {
				i++
			}
			if i == len(vs) {
				t.Fatalf("got %s=%q deleted=%v, want one of %q in order after %d", e.Key, e.Value, e.Deleted, vs, next[e.Key])
			}
			next[e.Key] = i + 1
		case <-timeout:
			t.Fatalf("after 5s the watch reached %v of %v", next, want)
		}
	}
}

func wantEntry(t *testing.T, ch <-chan fractal.Entry, key, value string, deleted bool) {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatalf("got a closed channel, want %s=%q", key, value)
		}
		if e.Key != key || string(e.Value) != value || e.Deleted != deleted || e.Revision == 0 {
			t.Fatalf("got %s=%q deleted=%v rev %d, want %s=%q deleted=%v", e.Key, e.Value, e.Deleted, e.Revision, key, value, deleted)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("got nothing in 5s, want %s=%q", key, value)
	}
}

func testKVUpdate(t *testing.T, kv fractal.KV, up fractal.KVUpdater) {
	ctx := Context(t, 30*time.Second)
	rev, err := up.Update(ctx, "idem.k1", []byte("job-1"), 0)
	must(t, err)
	_, err = up.Update(ctx, "idem.k1", []byte("job-2"), 0)
	wantErr(t, err, fractal.ErrConflict)
	_, err = up.Update(ctx, "idem.k1", []byte("job-2"), rev+100)
	wantErr(t, err, fractal.ErrConflict)
	rev2, err := up.Update(ctx, "idem.k1", []byte("job-3"), rev)
	must(t, err)
	_, err = up.Update(ctx, "idem.k1", []byte("job-4"), rev)
	wantErr(t, err, fractal.ErrConflict)
	e, err := kv.Get(ctx, "idem.k1")
	must(t, err)
	if string(e.Value) != "job-3" || e.Revision != rev2 {
		t.Fatalf("got %q at revision %d, want job-3 at %d", e.Value, e.Revision, rev2)
	}
	must(t, kv.Delete(ctx, "idem.k1"))
	_, err = up.Update(ctx, "idem.k1", []byte("job-5"), 0)
	must(t, err) // a deleted key can be created again
}
