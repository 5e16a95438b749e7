package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/fractal-grid/fractal"
)

// chainUsage lists the chain subcommands.
const chainUsage = `Usage: fractal chain <command> [flags]

Commands:
  metagraph     print a subnet's neurons (--json for JSON)
  block         print the current block number
  weights       print a subnet's weights policy, pending commits and weights
  register      burned-register a wallet's hotkey on a subnet
  stake         add stake to a hotkey (devchain only)
  subnet        create, list or configure subnets (devchain only)
  advance       produce blocks now (devchain only)

Every command takes --chain URL (default $FRACTAL_CHAIN or ` + defaultChainURL + `).
Run 'fractal chain <command> -h' for its flags.
`

func runChain(ctx context.Context, rio IO, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(rio.Stderr, chainUsage)
		return usageErrorf("chain: missing command")
	}
	logger := slog.New(slog.NewTextHandler(rio.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	switch cmd, rest := args[0], args[1:]; cmd {
	case "metagraph":
		return runChainMetagraph(ctx, rio, rest, logger)
	case "block":
		return runChainBlock(ctx, rio, rest, logger)
	case "weights":
		return runChainWeights(ctx, rio, rest, logger)
	case "register":
		return runChainRegister(ctx, rio, rest, logger)
	case "stake":
		return runChainStake(ctx, rio, rest, logger)
	case "subnet":
		return runChainSubnet(ctx, rio, rest, logger)
	case "advance":
		return runChainAdvance(ctx, rio, rest, logger)
	case "help", "-h", "--help":
		fmt.Fprint(rio.Stdout, chainUsage)
		return nil
	default:
		return usageErrorf("chain: unknown command %q (see 'fractal chain help')", cmd)
	}
}

// chainFlags are the flags every chain command shares.
type chainFlags struct {
	fs     *flag.FlagSet
	url    string
	netuid uint16
}

func newChainFlags(name, usage string, withNetUID bool) *chainFlags {
	f := &chainFlags{fs: flag.NewFlagSet("chain "+name, flag.ContinueOnError), netuid: 1}
	f.fs.StringVar(&f.url, "chain", chainURLFromEnv(), "chain `URL`: http://HOST:PORT for a devchain, ws://HOST:PORT for subtensor")
	if withNetUID {
		f.fs.Func("netuid", "subnet `N` (default 1)", uintFlag(16, func(v uint64) { f.netuid = uint16(v) }))
	}
	f.fs.Usage = func() {
		fmt.Fprintf(f.fs.Output(), "Usage: fractal chain %s\n\n", usage)
		f.fs.PrintDefaults()
	}
	return f
}

// parse parses args and opens the chain.
func (f *chainFlags) parse(ctx context.Context, args []string, rio IO, logger *slog.Logger) (fractal.Chain, error) {
	if err := parseFlags(f.fs, args, rio.Stderr); err != nil {
		return nil, err
	}
	if f.fs.NArg() > 0 {
		return nil, usageErrorf("%s: unexpected arguments %q", f.fs.Name(), f.fs.Args())
	}
	return openChain(ctx, f.url, logger)
}

func runChainMetagraph(ctx context.Context, rio IO, args []string, logger *slog.Logger) error {
	f := newChainFlags("metagraph", "metagraph [--chain URL] [--netuid N] [--json]", true)
	asJSON := f.fs.Bool("json", false, "print JSON instead of a table")
	chain, err := f.parse(ctx, args, rio, logger)
	if err != nil {
		return err
	}
	defer closeChain(chain)
	m, err := chain.Metagraph(ctx, f.netuid)
	if err != nil {
		return fmt.Errorf("metagraph: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(rio.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	}
	return writeMetagraph(rio.Stdout, m)
}

// writeMetagraph prints m as a table.
func writeMetagraph(w io.Writer, m *fractal.Metagraph) error {
	fmt.Fprintf(w, "subnet %d at block %d, tempo %d, %d neurons\n", m.NetUID, m.Block, m.Tempo, len(m.Neurons))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	// On dynamic-TAO chains the stake is alpha + TaoWeight × root: show both.
	parts := slices.ContainsFunc(m.Neurons, func(n fractal.Neuron) bool { return n.AlphaStake != 0 || n.RootStake != 0 })
	stakeCols := "STAKE(TAO)"
	if parts {
		stakeCols = "STAKE(TAO)\tALPHA\tROOT(TAO)"
	}
	fmt.Fprintln(tw, "UID\tHOTKEY\tCOLDKEY\t"+stakeCols+"\tPERMIT\tACTIVE\tINCENTIVE\tEMISSION(TAO)\tUPDATED\tAXON")
	for _, n := range m.Neurons {
		axon := "-"
		if n.Axon.Served() {
			axon = n.Axon.AddrPort().String()
		}
		stake := taoString(n.Stake)
		if parts {
			stake += "\t" + taoString(n.AlphaStake) + "\t" + taoString(n.RootStake)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%.4f\t%s\t%d\t%s\n", n.UID, n.Hotkey, shortAddr(n.Coldkey),
			stake, yesNo(n.ValidatorPermit), yesNo(n.Active), float64(n.Incentive)/65535,
			taoString(n.Emission), n.LastUpdate, axon)
	}
	return tw.Flush()
}

func shortAddr(a string) string {
	if len(a) <= 12 {
		return a
	}
	return a[:6] + "…" + a[len(a)-4:]
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// taoString formats rao as TAO without trailing zeros: 1500000000 → "1.5".
func taoString(rao uint64) string {
	whole, frac := rao/fractal.RaoPerTAO, rao%fractal.RaoPerTAO
	if frac == 0 {
		return strconv.FormatUint(whole, 10)
	}
	return strings.TrimRight(fmt.Sprintf("%d.%09d", whole, frac), "0")
}

// parseTAO parses a TAO amount with at most 9 decimals into rao, exactly.
func parseTAO(s string) (uint64, error) {
	bad := fmt.Errorf("amount %q is not a TAO amount like 10 or 0.5 (at most 9 decimals): %w", s, fractal.ErrInvalid)
	whole, frac, _ := strings.Cut(strings.TrimSpace(s), ".")
	if whole == "" && frac == "" || len(frac) > 9 || strings.ContainsAny(whole+frac, "+-") {
		return 0, bad
	}
	if whole == "" {
		whole = "0"
	}
	w, err := strconv.ParseUint(whole, 10, 64)
	if err != nil {
		return 0, bad
	}
	var f uint64
	if frac != "" {
		if f, err = strconv.ParseUint(frac+strings.Repeat("0", 9-len(frac)), 10, 64); err != nil {
			return 0, bad
		}
	}
	if w > (1<<64-1-f)/fractal.RaoPerTAO {
		return 0, fmt.Errorf("amount %q TAO overflows u64 rao: %w", s, fractal.ErrInvalid)
	}
	return w*fractal.RaoPerTAO + f, nil
}

func runChainBlock(ctx context.Context, rio IO, args []string, logger *slog.Logger) error {
	f := newChainFlags("block", "block [--chain URL]", false)
	chain, err := f.parse(ctx, args, rio, logger)
	if err != nil {
		return err
	}
	defer closeChain(chain)
	b, err := chain.Block(ctx)
	if err != nil {
		return fmt.Errorf("block: %w", err)
	}
	_, err = fmt.Fprintln(rio.Stdout, b)
	return err
}
