package storetest

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
)

// AuditLog runs the fractal.AuditLog contract. newLog returns an empty log for each
// subtest.
func AuditLog(t *testing.T, newLog func(t *testing.T) fractal.AuditLog) {
	type verification struct {
		Miner   int    `json:"miner"`
		Outcome string `json:"outcome"`
	}
	t.Run("AppendRead", func(t *testing.T) {
		l, ctx := newLog(t), Context(t, 30*time.Second)
		recs := []struct {
			subject string
			rec     verification
		}{
			{"verify.3", verification{3, "pass"}},
			{"verify.4", verification{4, "fail"}},
			{"dispatch.job-1", verification{4, "sent"}},
			{"verify.3", verification{3, "timeout"}},
		}
		var seqs []uint64
		for _, r := range recs {
			seq, err := l.Append(ctx, r.subject, r.rec)
			must(t, err)
			if len(seqs) > 0 && seq <= seqs[len(seqs)-1] {
				t.Fatalf("got sequence %d after %d, want it to grow", seq, seqs[len(seqs)-1])
			}
			seqs = append(seqs, seq)
		}
		tests := []struct {
			name   string
			filter string
			from   uint64
			limit  int
			want   []int // indexes into recs
		}{
			{"all", "", 0, 100, []int{0, 1, 2, 3}},
			{"limit", "", 0, 2, []int{0, 1}},
			{"from", "", seqs[2], 100, []int{2, 3}},
			{"one miner", "verify.3", 0, 100, []int{0, 3}},
			{"wildcard", "verify.*", seqs[1], 100, []int{1, 3}},
			{"tail wildcard", "dispatch.>", 0, 100, []int{2}},
			{"past the end", "", seqs[3] + 1, 100, nil},
		}
		for _, tt := range tests {
			got, err := l.Read(ctx, tt.filter, tt.from, tt.limit)
			must(t, err)
			var gotIdx []int
			for _, r := range got {
				i := slices.Index(seqs, r.Seq)
				if i < 0 || r.Subject != recs[i].subject || r.Time.IsZero() {
					t.Fatalf("%s: got record %d %s at %v, want one appended", tt.name, r.Seq, r.Subject, r.Time)
				}
				var v verification
				must(t, json.Unmarshal(r.Data, &v))
				if v != recs[i].rec {
					t.Fatalf("%s: got %+v, want %+v", tt.name, v, recs[i].rec)
				}
				gotIdx = append(gotIdx, i)
			}
			if !slices.Equal(gotIdx, tt.want) {
				t.Errorf("%s: got records %v, want %v", tt.name, gotIdx, tt.want)
			}
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		l, ctx := newLog(t), Context(t, 30*time.Second)
		_, err := l.Append(ctx, "has space", 1)
		wantErr(t, err, fractal.ErrInvalid)
		_, err = l.Append(ctx, "verify.*", 1)
		wantErr(t, err, fractal.ErrInvalid)
		_, err = l.Read(ctx, "a.>.b", 0, 10)
		wantErr(t, err, fractal.ErrInvalid)
		_, err = l.Read(ctx, "", 0, 0)
		wantErr(t, err, fractal.ErrInvalid)
	})
}
