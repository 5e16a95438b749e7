package validator_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/validator"
)

// gather renders a registry in the text exposition format.
func gather(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range families {
		if _, err := expfmt.MetricFamilyToText(&b, f); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func TestMetricsCountVerdictsAndSync(t *testing.T) {
	g := gridtest.New(t)
	g.AddMiner(t, refengine.New(), nil)
	g.AddMiner(t, gridtest.Lazy{Engine: refengine.New()}, nil)
	st := openStore(t, t.TempDir())
	defer st.Close()
	kv, err := st.KV(context.Background(), "validator", 0)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	v := validator.New()
	v.Config.NetUID, v.Config.AllowPrivateAxons, v.Config.PerRound, v.Config.SharedProb = gridtest.NetUID, true, 2, 0
	v.Config.Shapes = []validator.Shape{{Width: 64, Height: 64, Frames: 4, FPS: 8, Steps: 8}}
	v.Config.ChallengeTimeout = 10 * time.Second
	v.Engine, v.Hotkey, v.Chain, v.KV, v.Audit = refengine.New(), g.Validator, g.Chain, kv, st.Audit()
	v.Words, v.Logger, v.Registry = refengine.Words(), gridtest.Logger(t), reg
	if err := v.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if n := v.Round(context.Background()); n != 2 {
		t.Fatalf("round sent %d challenges, want 2", n)
	}
	page := gather(t, reg)
	for _, series := range []string{
		`fractal_validator_challenges_total 2`,
		`fractal_validator_verifications_total{kind="challenge",reason="ok",result="pass"} 1`,
		`fractal_validator_metagraph_block 0`,
	} {
		t.Run(series, func(t *testing.T) {
			if !strings.Contains(page, series+"\n") {
				t.Errorf("got no line %q in:\n%s", series, page)
			}
		})
	}
	t.Run("a failed verification", func(t *testing.T) {
		if !strings.Contains(page, `fractal_validator_verifications_total{kind="challenge",reason="`) || !strings.Contains(page, `result="fail"} 1`) {
			t.Errorf("got no failed verification of the lazy miner in:\n%s", page)
		}
	})
	t.Run("metagraph age", func(t *testing.T) {
		if !strings.Contains(page, "fractal_validator_metagraph_age_seconds 0.") {
			t.Errorf("got no fresh metagraph age in:\n%s", page)
		}
	})
}
