package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
)

// Model is a pinned profile as GET /v1/models shows it: the fields of the
// OpenAI SDKs' Model type, then the profile's rules, from which a client
// builds its controls.
type Model struct {
	ID      string `json:"id"` // "id@version", what a create's model takes
	Object  string `json:"object"`
	Created int64  `json:"created"` // 0: a profile carries no creation time; from_block says when its pin began
	OwnedBy string `json:"owned_by"`

	Default     bool              `json:"default"` // what a create naming no model gets
	Profile     string            `json:"profile"` // the bare id; a create naming it gets the newest active version
	Version     string            `json:"version"`
	Digest      string            `json:"digest"`
	Determinism string            `json:"determinism"`
	FromBlock   uint64            `json:"from_block"`
	UntilBlock  *uint64           `json:"until_block"` // null: no end
	Limits      fractal.Limits    `json:"limits"`
	Cost        fractal.CostModel `json:"cost"`
	Sizes       []string          `json:"sizes"` // common sizes it makes, its default first
}

// modelList is the answer of GET /v1/models.
type modelList struct {
	Object string  `json:"object"`
	Block  uint64  `json:"block"` // the chain block the pins were read at
	Data   []Model `json:"data"`
}

// pinsAndBlock returns the pinned profiles and the current block: the
// newest of the last metagraph's and the one watchBlocks saw (0 before
// either).
func (g *Gateway) pinsAndBlock() (fractal.Pins, uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	block := g.block
	if g.graph != nil {
		block = max(block, g.graph.Block)
	}
	return g.Config.Pins, block
}

// watchBlocks follows the chain's blocks, so that a pin's window opens and
// closes for creates on the block it names rather than at the next
// metagraph sync. Without a block stream the metagraph's block serves.
func (g *Gateway) watchBlocks(ctx context.Context) {
	blocks, err := g.Chain.WatchBlocks(ctx)
	if err != nil {
		g.logger.Warn("no block stream; pins follow the metagraph's block", slog.Any(logKeyError, err))
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case b, ok := <-blocks:
			if !ok {
				return
			}
			g.mu.Lock()
			g.block = max(g.block, b)
			g.mu.Unlock()
		}
	}
}

// models returns the profiles pinned at block, newest first, marking the
// default (the pin that began first: see fractal.Pins.Default).
func models(pins fractal.Pins, block uint64) []Model {
	out := []Model{}
	def, _ := pins.Default(block)
	for _, p := range pins.Active(block) {
		for _, pin := range pins {
			if pin.Profile.String() == p.String() {
				out = append(out, modelOf(pin, p.String() == def.String()))
				break
			}
		}
	}
	return out
}

func modelOf(pin fractal.Pin, isDefault bool) Model {
	p := pin.Profile
	m := Model{
		ID: p.String(), Object: "model", OwnedBy: "fractal", Default: isDefault,
		Profile: p.ID, Version: p.Version, Digest: p.Digest.String(), Determinism: p.Determinism,
		FromBlock: pin.From, Limits: p.Limits, Cost: p.Cost, Sizes: commonSizes(p.Limits),
	}
	if pin.Until != 0 {
		until := pin.Until
		m.UntilBlock = &until
	}
	return m
}

// handleModels lists the models served at the current block. No key is
// needed: the pins are public, and the web page builds its controls from
// them before a key is given.
func (g *Gateway) handleModels(w http.ResponseWriter, r *http.Request) {
	pins, block := g.pinsAndBlock()
	writeJSON(w, http.StatusOK, modelList{Object: "list", Block: block, Data: models(pins, block)})
}

// handleModel shows one served model, named "id" or "id@version".
func (g *Gateway) handleModel(w http.ResponseWriter, r *http.Request) {
	pins, block := g.pinsAndBlock()
	ref := r.PathValue("id")
	p, err := pins.Resolve(ref, block)
	var fe *fractal.FieldError
	if errors.As(err, &fe) {
		err = fmt.Errorf("model %q is not served: %s: %w", ref, fe.Reason, fractal.ErrNotFound)
	}
	if err != nil {
		apierr.Write(w, err)
		return
	}
	for _, m := range models(pins, block) {
		if m.ID == p.String() {
			writeJSON(w, http.StatusOK, m)
			return
		}
	}
	apierr.Write(w, fmt.Errorf("model %s: %w", p, fractal.ErrNotFound))
}

// sizeCandidates are the sizes offered when a model makes them: square,
// landscape and portrait at common resolutions, largest first.
var sizeCandidates = [][2]int{
	{1280, 720}, {720, 1280}, {1024, 1024}, {1024, 576}, {576, 1024}, {832, 480}, {480, 832},
	{768, 768}, {640, 360}, {360, 640}, {512, 512}, {256, 256}, {256, 144}, {144, 256},
	{192, 192}, {128, 128}, {64, 64},
}

// commonSizes lists the candidate sizes a model makes, its default first.
func commonSizes(l fractal.Limits) []string {
	out := []string{defaultSize(l)}
	for _, c := range sizeCandidates {
		s := fmt.Sprintf("%dx%d", c[0], c[1])
		if l.Width.Contains(c[0]) && l.Height.Contains(c[1]) && s != out[0] {
			out = append(out, s)
		}
	}
	return out
}

func defaultSize(l fractal.Limits) string {
	return fmt.Sprintf("%dx%d", l.Default.Width, l.Default.Height)
}

// allowedSeconds says which seconds give allowed frames at fps: "a multiple
// of 1/8 from 0.125 to 8 (whole seconds 1, 2, …)" for a run of frames,
// "one of 0.3125, 0.5625, … up to 5.0625" for a stepped set.
func allowedSeconds(frames fractal.Range, fps int) string {
	var whole []string
	for sec := 1; sec*fps <= frames.Largest(); sec++ {
		if frames.Contains(sec * fps) {
			whole = append(whole, strconv.Itoa(sec))
		}
	}
	var out string
	if len(frames.Values) == 0 && frames.Step <= 1 {
		out = fmt.Sprintf("a multiple of 1/%d from %s to %s", fps, formatSeconds(frames.Min, fps), formatSeconds(frames.Max, fps))
	} else {
		var all []string
		for _, n := range rangeValues(frames) {
			all = append(all, formatSeconds(n, fps))
		}
		out = "one of " + abbreviate(all)
	}
	if len(whole) > 0 {
		out += " (whole seconds " + abbreviate(whole) + ")"
	}
	return out
}

// rangeValues lists the values of a range in order.
func rangeValues(r fractal.Range) []int {
	if len(r.Values) > 0 {
		return slices.Sorted(slices.Values(r.Values))
	}
	var out []int
	for v := r.Min; v <= r.Max; v += max(r.Step, 1) {
		out = append(out, v)
	}
	return out
}

// abbreviate joins up to eight items, else the first three and the last.
func abbreviate(items []string) string {
	if len(items) <= 8 {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:3], ", ") + ", … up to " + items[len(items)-1]
}

// formatSeconds writes frames ÷ fps as the API shows seconds.
func formatSeconds(frames, fps int) string {
	return strconv.FormatFloat(float64(frames)/float64(max(fps, 1)), 'f', -1, 64)
}
