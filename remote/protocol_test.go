package remote_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/engineapi"
	"github.com/fractal-grid/fractal/enginetest"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/remote"
)

// v1Profile is a profile reply as a version 1 server writes it: no limits,
// cost model or frame tolerance.
type v1Profile struct {
	ID           string         `json:"id"`
	Version      string         `json:"version"`
	Digest       fractal.Digest `json:"digest"`
	Determinism  string         `json:"determinism"`
	Tolerance    float64        `json:"tolerance,omitempty"`
	Protocol     string         `json:"protocol"`
	Capabilities []string       `json:"capabilities,omitempty"`
}

func asV1(p fractal.Profile) v1Profile {
	return v1Profile{ID: p.ID, Version: p.Version, Digest: p.Digest, Determinism: p.Determinism, Tolerance: p.Tolerance}
}

// protocolV1 makes the real server look like a version 1 server: its profile
// reply and the profile in a generation's result lose the rules that version 2
// added.
func protocolV1(t *testing.T, p fractal.Profile) func(http.Handler) http.Handler {
	strip := tampering(t, "/v1/generate", func(t *testing.T, rec *engineapi.Record) bool {
		if rec.Type == engineapi.TypeResult {
			set(t, rec, "profile", asV1(p))
		}
		return true
	})
	return func(next http.Handler) http.Handler {
		next = strip(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v1/profile" {
				next.ServeHTTP(w, r)
				return
			}
			reply := asV1(p)
			reply.Protocol, reply.Capabilities = engineapi.ProtocolV1, []string{engineapi.CapDecodeFrame}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(reply)
		})
	}
}

// TestProtocolV1Server checks that a version 1 engine server still works: the
// client takes the legacy limits and cost model (and, for a tolerant profile,
// the legacy frame tolerance), and generates and steps as before.
func TestProtocolV1Server(t *testing.T) {
	jittered, err := refengine.NewWithJitter(refengine.MaxJitter, 1)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		engine         fractal.Engine
		frameTolerance int
	}{
		{"Exact", refengine.New(), 0},
		{"Tolerant", jittered, fractal.LegacyFrameTolerance},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.engine.Profile()
			hs := serve(t, tc.engine, engineapi.DefaultConfig(), protocolV1(t, want))
			if body := getProfile(t, hs.URL); body["limits"] != nil || body["cost"] != nil || body["protocol"] != engineapi.ProtocolV1 {
				t.Fatalf("the v1 stand-in replies %v", body)
			}
			e := open(t, hs)
			got := e.Profile()
			if err := want.Same(got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Limits, fractal.LegacyLimits()) {
				t.Errorf("limits %+v, want the legacy %+v", got.Limits, fractal.LegacyLimits())
			}
			if got.Cost != fractal.LegacyCost() {
				t.Errorf("cost %+v, want the legacy %+v", got.Cost, fractal.LegacyCost())
			}
			if got.FrameTolerance != tc.frameTolerance || got.Tolerance != want.Tolerance {
				t.Errorf("tolerances %g and %d levels, want %g and %d", got.Tolerance, got.FrameTolerance, want.Tolerance, tc.frameTolerance)
			}

			g := enginetest.MustGenerate(t, e, smallSpec, true)
			if err := got.Same(g.Profile); err != nil {
				t.Errorf("result: %v", err)
			}
			if !g.Profile.Limits.Zero() {
				t.Errorf("the stand-in's result carries limits %+v, want none", g.Profile.Limits)
			}
			direct := enginetest.MustGenerate(t, tc.engine, smallSpec, true)
			if tc.frameTolerance == 0 && !slices.Equal(g.StateDigests, direct.StateDigests) {
				t.Errorf("state digests differ from the engine's own")
			}
			s, err := e.Step(t.Context(), smallSpec, 2, g.States[1])
			if err != nil {
				t.Fatal(err)
			}
			if err := fractal.CompareStates(s, g.States[2], got.StepTolerance()); err != nil {
				t.Errorf("Step(2): %v", err)
			}
		})
	}
}

// TestProtocolV2NeedsRules checks that a version 2 profile reply must carry
// valid limits and a cost model: without them the engine breaks the protocol.
func TestProtocolV2NeedsRules(t *testing.T) {
	ref := refengine.New()
	tests := []struct {
		name string
		edit func(m map[string]any)
		ok   bool
	}{
		{"Complete", func(map[string]any) {}, true},
		{"NoLimits", func(m map[string]any) { delete(m, "limits") }, false},
		{"NoCost", func(m map[string]any) { delete(m, "cost") }, false},
		{"NoRules", func(m map[string]any) { delete(m, "limits"); delete(m, "cost") }, false},
		{"EmptyFrames", func(m map[string]any) {
			m["limits"].(map[string]any)["frames"] = map[string]any{"min": 9, "max": 5}
		}, false},
		{"DefaultOutsideLimits", func(m map[string]any) {
			m["limits"].(map[string]any)["default"].(map[string]any)["width"] = 100
		}, false},
		{"NegativeCost", func(m map[string]any) { m["cost"].(map[string]any)["decode"] = -1 }, false},
		{"FrameToleranceOnExact", func(m map[string]any) { m["frame_tolerance"] = 4 }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := serve(t, ref, engineapi.DefaultConfig(), func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path != "/v1/profile" {
						next.ServeHTTP(w, r)
						return
					}
					m := getProfileFrom(t, next, r)
					tc.edit(m)
					json.NewEncoder(w).Encode(m)
				})
			})
			e, err := remote.New(hs.URL, hs.Client())
			if err != nil {
				t.Fatal(err)
			}
			err = e.Open(t.Context())
			switch {
			case tc.ok && err != nil:
				t.Fatalf("Open: %v", err)
			case tc.ok && !reflect.DeepEqual(e.Profile(), ref.Profile()):
				t.Errorf("profile %+v, want %+v", e.Profile(), ref.Profile())
			case !tc.ok && !errors.Is(err, remote.ErrProtocol):
				t.Errorf("Open: got %v, want %v", err, remote.ErrProtocol)
			}
		})
	}
}

// getProfile fetches the profile reply at url as JSON.
func getProfile(t *testing.T, url string) map[string]any {
	t.Helper()
	resp, err := http.Get(url + "/v1/profile")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// getProfileFrom asks h for the profile reply as JSON.
func getProfileFrom(t *testing.T, h http.Handler, r *http.Request) map[string]any {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("profile reply %q: %v", rec.Body, err)
	}
	return m
}
