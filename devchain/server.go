package devchain

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
	"github.com/fractal-grid/fractal/sr25519"
)

// Server limits.
const (
	maxBodyBytes   = 1 << 20
	maxReplayCache = 1 << 17
	// DefaultPollWait is how long a block long-poll waits at most.
	DefaultPollWait = 25 * time.Second
)

// Call names, also the last element of the write paths /v1/calls/{call}.
const (
	callServeAxon      = "serve_axon"
	callSetWeights     = "set_weights"
	callBurnedRegister = "burned_register"
	callCreateSubnet   = "create_subnet"
	callAddStake       = "add_stake"
	callSetParams      = "set_subnet_params"
	callAdvance        = "advance"
)

// Server serves a Chain over HTTP+JSON. Reads are open; every write is a
// signed envelope (see auth.go) and acts as the key that signed it.
//
//	GET  /v1/block                       {"block": N, "time": RFC 3339}
//	GET  /v1/blocks?after=N&wait=25s     long-poll: returns once block > N
//	GET  /v1/subnets                     [SubnetInfo]
//	GET  /v1/subnets/{netuid}/metagraph  fractal.Metagraph, with an ETag (304 when unchanged)
//	GET  /v1/subnets/{netuid}/weights-policy  fractal.WeightsPolicy
//	GET  /v1/subnets/{netuid}/weights    fractal.SubnetWeights (pending commits, weights)
//	POST /v1/calls/{call}                signed envelope → result
type Server struct {
	Chain  *Chain
	Logger *slog.Logger
	Now    func() time.Time
	// Verifier checks call signatures.
	Verifier fractal.SignatureVerifier
	// MaxSkew is how far a call's timestamp may be from Now.
	MaxSkew time.Duration

	mux    *http.ServeMux
	replay *replayCache
	done   chan struct{}
}

var _ http.Handler = (*Server)(nil)

// NewServer returns a Server for c.
func NewServer(c *Chain) *Server {
	s := &Server{
		Chain:    c,
		Logger:   c.Logger,
		Now:      time.Now,
		Verifier: &sr25519.Verifier{},
		MaxSkew:  time.Minute,
		mux:      http.NewServeMux(),
		replay:   newReplayCache(maxReplayCache),
		done:     make(chan struct{}),
	}
	s.mux.HandleFunc("GET /v1/block", s.handleBlock)
	s.mux.HandleFunc("GET /v1/blocks", s.handleWaitBlock)
	s.mux.HandleFunc("GET /v1/subnets", s.handleSubnets)
	s.mux.HandleFunc("GET /v1/subnets/{netuid}/metagraph", s.handleMetagraph)
	s.mux.HandleFunc("GET /v1/subnets/{netuid}/weights-policy", s.handleWeightsPolicy)
	s.mux.HandleFunc("GET /v1/subnets/{netuid}/weights", s.handleSubnetWeights)
	s.mux.HandleFunc("POST /v1/calls/{call}", s.handleCall)
	return s
}

// Close releases pending long-polls so an http.Server can shut down fast.
func (s *Server) Close() error {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	return nil
}

// ServeHTTP implements http.Handler. Every request gets an id, and an
// internal error is logged on Logger with it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	apierr.Middleware(s.Logger, s.mux).ServeHTTP(w, r)
}

func (s *Server) handleBlock(w http.ResponseWriter, r *http.Request) {
	b, at, err := s.Chain.head()
	s.reply(w, r, blockInfo{Block: b, Time: at.UTC()}, err)
}

// blockInfo answers /v1/block: the best block and when it was produced.
type blockInfo struct {
	Block uint64    `json:"block"`
	Time  time.Time `json:"time"`
}

func (s *Server) handleWaitBlock(w http.ResponseWriter, r *http.Request) {
	wait := DefaultPollWait
	if v := r.URL.Query().Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > time.Minute {
			s.reply(w, r, nil, fractal.Errorf("wait", "%q is not a duration within 0-1m", v))
			return
		}
		wait = d
	}
	after := int64(-1)
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			s.reply(w, r, nil, fractal.Errorf("after", "%q is not a block number", v))
			return
		}
		after = int64(n)
	}
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	b, err := s.Chain.waitBlock(ctx, s.done, after)
	s.reply(w, r, map[string]uint64{"block": b}, err)
}

func (s *Server) handleSubnets(w http.ResponseWriter, r *http.Request) {
	subnets, err := s.Chain.Subnets(r.Context())
	if subnets == nil {
		subnets = []SubnetInfo{}
	}
	s.reply(w, r, subnets, err)
}

func (s *Server) handleMetagraph(w http.ResponseWriter, r *http.Request) {
	netuid, err := parseNetUID(r.PathValue("netuid"))
	if err != nil {
		s.reply(w, r, nil, err)
		return
	}
	m, tag, err := s.Chain.metagraph(netuid, strings.Trim(r.Header.Get("If-None-Match"), `"`))
	if err == nil {
		w.Header().Set("ETag", `"`+tag+`"`)
		if m == nil {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	s.reply(w, r, m, err)
}

func parseNetUID(v string) (uint16, error) {
	n, err := strconv.ParseUint(v, 10, 16)
	if err != nil {
		return 0, fractal.Errorf("netuid", "%q is not a netuid (0-65535)", v)
	}
	return uint16(n), nil
}

// Arguments of the calls.
type (
	serveAxonArgs struct {
		NetUID uint16       `json:"netuid"`
		Axon   fractal.Axon `json:"axon"`
	}
	setWeightsArgs struct {
		NetUID     uint16   `json:"netuid"`
		UIDs       []uint16 `json:"uids"`
		Weights    []uint16 `json:"weights"`
		VersionKey uint64   `json:"version_key"`
	}
	registerArgs struct {
		NetUID uint16 `json:"netuid"`
		Hotkey string `json:"hotkey"`
	}
	addStakeArgs struct {
		NetUID uint16 `json:"netuid"`
		Hotkey string `json:"hotkey"`
		Rao    uint64 `json:"rao"`
	}
	setParamsArgs struct {
		NetUID uint16       `json:"netuid"`
		Params SubnetParams `json:"params"`
	}
	advanceArgs struct {
		Blocks int `json:"blocks"`
	}
	callResult struct {
		NetUID *uint16 `json:"netuid,omitempty"`
		UID    *uint16 `json:"uid,omitempty"`
		Block  *uint64 `json:"block,omitempty"`
	}
)

func (s *Server) handleCall(w http.ResponseWriter, r *http.Request) {
	call := r.PathValue("call")
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		s.reply(w, r, nil, fmt.Errorf("read body: %v: %w", err, fractal.ErrInvalid))
		return
	}
	if len(body) > maxBodyBytes {
		s.reply(w, r, nil, fmt.Errorf("call body over %d bytes: %w", maxBodyBytes, fractal.ErrTooLarge))
		return
	}
	env, err := openEnvelope(s.Verifier, s.replay, call, body, r.Header.Get(signatureHeader), s.Now(), s.MaxSkew)
	if err != nil {
		s.reply(w, r, nil, err)
		return
	}
	res, err := s.dispatch(env)
	s.reply(w, r, res, err)
}

// dispatch runs an authenticated call as env.Signer.
func (s *Server) dispatch(env *envelope) (*callResult, error) {
	c, who := s.Chain, env.Signer
	var res callResult
	if ok, err := s.dispatchCommit(env); ok {
		return &res, err
	}
	var err error
	switch env.Call {
	case callServeAxon:
		var a serveAxonArgs
		if err = decodeArgs(env, &a); err == nil {
			err = c.serveAxonAs(who, a.NetUID, a.Axon)
		}
	case callSetWeights:
		var a setWeightsArgs
		if err = decodeArgs(env, &a); err == nil {
			err = c.setWeightsAs(who, a.NetUID, a.UIDs, a.Weights, a.VersionKey)
		}
	case callBurnedRegister:
		var a registerArgs
		if err = decodeArgs(env, &a); err == nil {
			var uid uint16
			uid, err = c.registerAs(who, a.NetUID, a.Hotkey)
			res.UID = &uid
		}
	case callCreateSubnet:
		var id uint16
		id, err = c.createSubnetAs(who)
		res.NetUID = &id
	case callAddStake:
		var a addStakeArgs
		if err = decodeArgs(env, &a); err == nil {
			err = c.addStakeAs(who, a.NetUID, a.Hotkey, a.Rao)
		}
	case callSetParams:
		var a setParamsArgs
		if err = decodeArgs(env, &a); err == nil {
			err = c.setParamsAs(who, a.NetUID, a.Params)
		}
	case callAdvance:
		var a advanceArgs
		if err = decodeArgs(env, &a); err == nil {
			if err = c.checkSudo(who, callAdvance); err == nil {
				var b uint64
				b, err = c.Advance(a.Blocks)
				res.Block = &b
			}
		}
	default:
		return nil, fmt.Errorf("unknown call %q: %w", env.Call, fractal.ErrNotFound)
	}
	return &res, err
}

func decodeArgs(env *envelope, v any) error {
	if err := json.Unmarshal(env.Args, v); err != nil {
		return fmt.Errorf("%s arguments: %v: %w", env.Call, err, fractal.ErrInvalid)
	}
	return nil
}

// reply writes v as JSON, or err with its status.
func (s *Server) reply(w http.ResponseWriter, r *http.Request, v any, err error) {
	if err != nil {
		// An internal error is logged by apierr, with the request id its reply shows.
		apierr.Devchain.Write(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// waitBlock returns the current block once it is above after (after < 0
// returns at once), or the current block when ctx expires.
func (c *Chain) waitBlock(ctx context.Context, release <-chan struct{}, after int64) (uint64, error) {
	for {
		c.mu.RLock()
		err := c.usable()
		var b uint64
		var wait chan struct{}
		if err == nil {
			b, wait = c.st.Block, c.changed
		}
		c.mu.RUnlock()
		if err != nil {
			return 0, err
		}
		if int64(b) > after {
			return b, nil
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return b, nil
		case <-release:
			return b, nil
		case <-c.done:
			return 0, fmt.Errorf("devchain is closing: %w", fractal.ErrUnavailable)
		}
	}
}
