package remote

import (
	"context"
	"errors"
	"fmt"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/engineapi"
)

// Generate runs a generation on the engine, passing its progress on as it
// streams in, and checks the result: the profile is the one opened, the spec
// is the one asked for, the frames match their digest and every state matches
// its committed digest.
func (e *Engine) Generate(ctx context.Context, spec fractal.Spec, opts fractal.GenerateOptions) (*fractal.Result, error) {
	req := engineapi.GenerateRequest{Type: engineapi.TypeGenerate, Spec: spec, KeepStates: opts.KeepStates}
	resp, err := e.post(ctx, "/v1/generate", req, nil)
	if err != nil {
		return nil, fmt.Errorf("remote generate: %w", err)
	}
	defer resp.Body.Close()
	g := &generation{
		spec:    spec,
		opts:    opts,
		profile: e.Profile(),
		rd:      engineapi.NewReader(resp.Body, max(framesBytes(spec), e.Config.MaxStateBytes)),
	}
	res, err := g.read()
	if err != nil && g.failed {
		return nil, fmt.Errorf("remote generate: %w", err)
	}
	if err != nil {
		if errors.Is(err, engineapi.ErrNoRecord) {
			err = fmt.Errorf("stream ended before its end record: %w", ErrProtocol)
		}
		return nil, fmt.Errorf("remote generate: %w", protocolErr(ctx, err))
	}
	return res, nil
}

// generation reads one generate stream.
type generation struct {
	spec    fractal.Spec
	opts    fractal.GenerateOptions
	profile fractal.Profile
	rd      *engineapi.Reader
	res     *fractal.Result
	failed  bool // the engine reported an error record
}

func (g *generation) read() (*fractal.Result, error) {
	step := 0
	for {
		rec, err := g.rd.Next()
		if err != nil {
			return nil, err
		}
		switch rec.Type {
		case engineapi.TypeProgress:
			if err := g.progress(rec, &step); err != nil {
				return nil, err
			}
		case engineapi.TypeError:
			return nil, g.engineError(rec)
		case engineapi.TypeResult:
			if step != g.spec.Steps {
				return nil, fmt.Errorf("result after %d progress events, want %d: %w", step, g.spec.Steps, ErrProtocol)
			}
			return g.tail(rec)
		default:
			return nil, fmt.Errorf("unexpected %q record before the result: %w", rec.Type, ErrProtocol)
		}
	}
}

// engineError decodes the error record that ends a failed stream.
func (g *generation) engineError(rec *engineapi.Record) error {
	var reply engineapi.ErrorReply
	if err := rec.Decode(&reply); err != nil {
		return err
	}
	g.failed = true
	return engineapi.Err(reply.Error, 0, 0)
}

func (g *generation) progress(rec *engineapi.Record, step *int) error {
	var ev engineapi.ProgressEvent
	if err := rec.Decode(&ev); err != nil {
		return err
	}
	if ev.Steps != g.spec.Steps || ev.Step != *step+1 {
		return fmt.Errorf("progress %d/%d after step %d of %d: %w", ev.Step, ev.Steps, *step, g.spec.Steps, ErrProtocol)
	}
	*step = ev.Step
	if g.opts.Progress != nil {
		g.opts.Progress(ev.Progress)
	}
	return nil
}

// tail reads the result, frames, states and end records.
func (g *generation) tail(rec *engineapi.Record) (*fractal.Result, error) {
	var ev engineapi.ResultEvent
	if err := rec.Decode(&ev); err != nil {
		return nil, err
	}
	if err := g.checkResult(ev); err != nil {
		return nil, err
	}
	g.res = &fractal.Result{Profile: ev.Profile, Spec: ev.Spec, StateDigests: ev.StateDigests}
	if err := g.frames(ev.FramesDigest); err != nil {
		return nil, err
	}
	for t := 0; t < ev.States; t++ {
		if err := g.state(t); err != nil {
			return nil, err
		}
	}
	end, err := g.rd.Next()
	if err != nil {
		return nil, err
	}
	if end.Type == engineapi.TypeError {
		return nil, g.engineError(end)
	}
	if end.Type != engineapi.TypeEnd {
		return nil, fmt.Errorf("%q record where the end record belongs: %w", end.Type, ErrProtocol)
	}
	return g.res, nil
}

func (g *generation) checkResult(ev engineapi.ResultEvent) error {
	if err := g.profile.Same(ev.Profile); err != nil {
		return fmt.Errorf("result: %w", err)
	}
	want := g.spec.Steps + 1
	switch {
	case ev.Spec != g.spec:
		return fmt.Errorf("result is for spec %s, want %s: %w", ev.Spec.Hash(), g.spec.Hash(), fractal.ErrMismatch)
	case len(ev.StateDigests) != want:
		return fmt.Errorf("result has %d state digests, want %d: %w", len(ev.StateDigests), want, ErrProtocol)
	case g.opts.KeepStates && ev.States != want, !g.opts.KeepStates && ev.States != 0:
		return fmt.Errorf("result announces %d states (keep_states %v, %d steps): %w", ev.States, g.opts.KeepStates, g.spec.Steps, ErrProtocol)
	}
	return nil
}

func (g *generation) frames(want fractal.Digest) error {
	rec, err := g.rd.Next()
	if err != nil {
		return err
	}
	if rec.Type != engineapi.TypeFrames {
		return fmt.Errorf("%q record where the frames belong: %w", rec.Type, ErrProtocol)
	}
	var fr engineapi.FramesRecord
	if err := rec.Decode(&fr); err != nil {
		return err
	}
	f, err := replyFrames(g.spec, fr, rec.Payload)
	if err != nil {
		return err
	}
	if fr.Digest != want {
		return fmt.Errorf("frames digest %s, result says %s: %w", fr.Digest, want, fractal.ErrMismatch)
	}
	g.res.Frames = f
	return nil
}

func (g *generation) state(t int) error {
	rec, err := g.rd.Next()
	if err != nil {
		return err
	}
	var sr engineapi.StateRecord
	if rec.Type != engineapi.TypeState {
		return fmt.Errorf("%q record where state %d belongs: %w", rec.Type, t, ErrProtocol)
	}
	if err := rec.Decode(&sr); err != nil {
		return err
	}
	if sr.T != t {
		return fmt.Errorf("state %d where state %d belongs: %w", sr.T, t, ErrProtocol)
	}
	s, err := replyState(sr.StateHeader, rec.Payload)
	if err != nil {
		return fmt.Errorf("state %d: %w", t, err)
	}
	if sr.Digest != g.res.StateDigests[t] {
		return fmt.Errorf("state %d digest %s, committed %s: %w", t, sr.Digest, g.res.StateDigests[t], fractal.ErrMismatch)
	}
	g.res.States = append(g.res.States, s)
	return nil
}
