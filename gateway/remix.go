package gateway

import (
	"fmt"
	"net/http"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
)

// handleRemix answers POST /v1/videos/{id}/remix {prompt}: a new video with
// the source's model, seed and shape and the new prompt. With a seeded
// model that is what a remix means: the same noise, another text. The
// source must be the caller's, completed and not expired; the new video is
// a create in every other way (limits, Idempotency-Key, Prefer: wait,
// webhook_url).
func (g *Gateway) handleRemix(w http.ResponseWriter, r *http.Request, key Key) {
	src, err := g.ownJob(r, key)
	if err != nil {
		apierr.Write(w, err)
		return
	}
	req, err := decodeCreate(r, g.Config.MaxBodyBytes)
	if err == nil {
		err = req.remixOnly()
	}
	if err != nil {
		apierr.Write(w, err)
		return
	}
	if src.Status != fractal.JobCompleted {
		apierr.Write(w, fmt.Errorf("video %s is %s; only a completed video can be remixed: %w", src.ID, src.Status, fractal.ErrConflict))
		return
	}
	if err := g.expired(src, "it can no longer be remixed"); err != nil {
		apierr.Write(w, err)
		return
	}
	model := modelOfSpec(src.Spec)
	pins, block := g.pinsAndBlock()
	profile, err := pins.Resolve(model, block)
	if err != nil {
		apierr.Write(w, fmt.Errorf("video %s was made by model %s, which this grid no longer serves, so it cannot be remixed: %w", src.ID, model, fractal.ErrConflict))
		return
	}
	spec := src.Spec
	spec.Prompt, spec.Profile = req.Prompt, profile.String()
	if err := profile.Check(spec); err != nil {
		apierr.Write(w, forModel(err, profile))
		return
	}
	g.submit(w, r, key, spec, req.WebhookURL, src.ID)
}

// remixOnly checks that a remix request sets only what a remix may: the
// prompt (required) and a webhook. Everything else is the source's.
func (c CreateRequest) remixOnly() error {
	set := []struct {
		field string
		isSet bool
	}{
		{"model", c.Model != ""}, {"seed", c.Seed != nil}, {"size", c.Size != ""}, {"seconds", c.Seconds != nil},
		{"frames", c.Frames != nil}, {"fps", c.FPS != nil}, {"steps", c.Steps != nil},
		{"input_reference", len(c.InputReference) > 0 && string(c.InputReference) != "null"},
	}
	for _, f := range set {
		if f.isSet {
			return fractal.Errorf(f.field, "cannot be set on a remix: it takes the source video's model, seed and shape; send prompt (and webhook_url)")
		}
	}
	return fractal.ValidatePrompt(c.Prompt)
}
