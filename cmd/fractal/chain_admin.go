package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/sr25519"
	"github.com/fractal-grid/fractal/wallet"
)

// chainWalletRoot returns $FRACTAL_WALLET_PATH or btcli's default root.
func chainWalletRoot() string {
	if v := os.Getenv("FRACTAL_WALLET_PATH"); v != "" {
		return v
	}
	root, err := wallet.DefaultRoot()
	if err != nil {
		return ""
	}
	return root
}

func runChainRegister(ctx context.Context, rio IO, args []string, logger *slog.Logger) error {
	f := newChainFlags("register", "register --netuid N --name WALLET --hotkey HOTKEY [--wallet-path DIR]\n\n"+
		"Burned-registers the wallet's hotkey, signed by its coldkey. An encrypted coldkey is\n"+
		"decrypted with $FRACTAL_WALLET_PASSWORD.", true)
	name := f.fs.String("name", wallet.DefaultName, "wallet `NAME`")
	hotkey := f.fs.String("hotkey", wallet.DefaultHotkey, "hotkey `NAME` in the wallet")
	root := f.fs.String("wallet-path", chainWalletRoot(), "wallets root `DIR` ($FRACTAL_WALLET_PATH)")
	chain, err := f.parse(ctx, args, rio, logger)
	if err != nil {
		return err
	}
	defer closeChain(chain)
	w, err := wallet.Open(*root, *name)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	hot, err := w.HotkeyPub(*hotkey)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	var password []byte
	if p := os.Getenv("FRACTAL_WALLET_PASSWORD"); p != "" {
		password = []byte(p)
	}
	cold, err := w.Coldkey(password)
	if errors.Is(err, wallet.ErrPasswordRequired) {
		return fmt.Errorf("register: the coldkey of wallet %q is encrypted: set FRACTAL_WALLET_PASSWORD to its password: %w", *name, fractal.ErrInvalid)
	}
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	if err := chain.BurnedRegister(ctx, cold, f.netuid, hot); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	m, err := chain.Metagraph(ctx, f.netuid)
	if err != nil {
		return fmt.Errorf("register: read back: %w", err)
	}
	n, ok := m.ByHotkey(hot)
	if !ok {
		return fmt.Errorf("register: hotkey %s missing from subnet %d after registration", hot, f.netuid)
	}
	_, err = fmt.Fprintf(rio.Stdout, "registered hotkey %s/%s (%s) on subnet %d as uid %d\n", *name, *hotkey, hot, f.netuid, n.UID)
	return err
}

// sudoFlag adds --sudo-uri and returns a loader for the key.
func sudoFlag(f *chainFlags) func() (*sr25519.Keypair, error) {
	uri := f.fs.String("sudo-uri", "//Alice", "secret `URI` of the devchain's sudo key")
	return func() (*sr25519.Keypair, error) {
		k, err := sr25519.FromURI(*uri)
		if err != nil {
			return nil, fmt.Errorf("--sudo-uri: %v: %w", err, fractal.ErrInvalid)
		}
		return k, nil
	}
}

func runChainStake(ctx context.Context, rio IO, args []string, logger *slog.Logger) error {
	f := newChainFlags("stake", "stake --netuid N --hotkey SS58 --amount TAO\n\n"+
		"Adds stake to a registered hotkey on a devchain (stake comes from nowhere; sudo signs): alpha on\n"+
		"subnet N, or with --netuid 0 TAO on the root network, which counts at the devchain's TaoWeight\n"+
		"on every subnet the hotkey is registered on (stake = alpha + TaoWeight x root).", true)
	hotkey := f.fs.String("hotkey", "", "hotkey `SS58` address to stake to")
	amount := f.fs.String("amount", "", "stake to add, in `TAO` (e.g. 1000 or 0.5)")
	sudo := sudoFlag(f)
	chain, err := f.parse(ctx, args, rio, logger)
	if err != nil {
		return err
	}
	defer closeChain(chain)
	if _, err := sr25519.ParseSS58(*hotkey); err != nil {
		return fmt.Errorf("stake: --hotkey: %w", err)
	}
	rao, err := parseTAO(*amount)
	if err != nil {
		return fmt.Errorf("stake: --amount: %w", err)
	}
	admin, err := devchainAdmin(chain, "stake")
	if err != nil {
		return err
	}
	key, err := sudo()
	if err != nil {
		return err
	}
	if err := admin.AddStake(ctx, key, f.netuid, *hotkey, rao); err != nil {
		return fmt.Errorf("stake: %w", err)
	}
	if f.netuid == devchain.RootNetUID {
		_, err = fmt.Fprintf(rio.Stdout, "staked %s TAO to %s on the root network\n", taoString(rao), *hotkey)
		return err
	}
	m, err := chain.Metagraph(ctx, f.netuid)
	if err != nil {
		return fmt.Errorf("stake: read back: %w", err)
	}
	n, _ := m.ByHotkey(*hotkey)
	_, err = fmt.Fprintf(rio.Stdout, "staked %s TAO to %s on subnet %d: total %s TAO, validator permit %s\n",
		taoString(rao), *hotkey, f.netuid, taoString(n.Stake), yesNo(n.ValidatorPermit))
	return err
}

func runChainAdvance(ctx context.Context, rio IO, args []string, logger *slog.Logger) error {
	f := newChainFlags("advance", "advance --blocks N\n\nProduces N blocks on a devchain now.", false)
	blocks := f.fs.Int("blocks", 1, "blocks to produce")
	sudo := sudoFlag(f)
	chain, err := f.parse(ctx, args, rio, logger)
	if err != nil {
		return err
	}
	defer closeChain(chain)
	admin, err := devchainAdmin(chain, "advance")
	if err != nil {
		return err
	}
	key, err := sudo()
	if err != nil {
		return err
	}
	b, err := admin.AdvanceBlocks(ctx, key, *blocks)
	if err != nil {
		return fmt.Errorf("advance: %w", err)
	}
	_, err = fmt.Fprintln(rio.Stdout, b)
	return err
}

func runChainSubnet(ctx context.Context, rio IO, args []string, logger *slog.Logger) error {
	usage := "subnet create|list|set [flags]"
	if len(args) == 0 {
		return usageErrorf("chain subnet: missing command: %s", usage)
	}
	switch args[0] {
	case "create":
		return runSubnetCreate(ctx, rio, args[1:], logger)
	case "list":
		return runSubnetList(ctx, rio, args[1:], logger)
	case "set":
		return runSubnetSet(ctx, rio, args[1:], logger)
	default:
		return usageErrorf("chain subnet: unknown command %q: %s", args[0], usage)
	}
}

func runSubnetCreate(ctx context.Context, rio IO, args []string, logger *slog.Logger) error {
	f := newChainFlags("subnet create", "subnet create [--owner-uri URI]\n\nCreates a devchain subnet and prints its netuid.", false)
	owner := f.fs.String("owner-uri", "//Alice", "secret `URI` of the subnet owner's key")
	chain, err := f.parse(ctx, args, rio, logger)
	if err != nil {
		return err
	}
	defer closeChain(chain)
	admin, err := devchainAdmin(chain, "subnet create")
	if err != nil {
		return err
	}
	key, err := sr25519.FromURI(*owner)
	if err != nil {
		return fmt.Errorf("--owner-uri: %v: %w", err, fractal.ErrInvalid)
	}
	id, err := admin.CreateSubnet(ctx, key)
	if err != nil {
		return fmt.Errorf("subnet create: %w", err)
	}
	_, err = fmt.Fprintln(rio.Stdout, id)
	return err
}

func runSubnetList(ctx context.Context, rio IO, args []string, logger *slog.Logger) error {
	f := newChainFlags("subnet list", "subnet list", false)
	chain, err := f.parse(ctx, args, rio, logger)
	if err != nil {
		return err
	}
	defer closeChain(chain)
	admin, err := devchainAdmin(chain, "subnet list")
	if err != nil {
		return err
	}
	subnets, err := admin.Subnets(ctx)
	if err != nil {
		return fmt.Errorf("subnet list: %w", err)
	}
	for _, s := range subnets {
		fmt.Fprintf(rio.Stdout, "%d\t%d neurons\towner %s\t%s\n", s.NetUID, s.Neurons, s.Owner, s.Params)
	}
	return nil
}

func runSubnetSet(ctx context.Context, rio IO, args []string, logger *slog.Logger) error {
	f := newChainFlags("subnet set", "subnet set --netuid N [--tempo T] [--weights-rate-limit B] ...\n\n"+
		"Changes a devchain subnet's parameters; flags not given keep their value.", true)
	var changes []func(*devchain.SubnetParams)
	param := func(name, usage string, bits int, apply func(*devchain.SubnetParams, uint64)) {
		f.fs.Func(name, usage, uintFlag(bits, func(v uint64) {
			changes = append(changes, func(p *devchain.SubnetParams) { apply(p, v) })
		}))
	}
	param("tempo", "blocks between consensus epochs", 16, func(p *devchain.SubnetParams, v uint64) { p.Tempo = uint16(v) })
	param("weights-rate-limit", "blocks between two set_weights of one validator", 63, func(p *devchain.SubnetParams, v uint64) { p.WeightsRateLimit = v })
	param("immunity-period", "blocks a new neuron is not pruned", 63, func(p *devchain.SubnetParams, v uint64) { p.ImmunityPeriod = v })
	param("max-validators", "validator permits (top-k stake)", 16, func(p *devchain.SubnetParams, v uint64) { p.MaxValidators = uint16(v) })
	param("max-uids", "neurons the subnet holds (at most 256)", 16, func(p *devchain.SubnetParams, v uint64) { p.MaxUIDs = uint16(v) })
	param("weights-version-key", "lowest version key set_weights accepts", 63, func(p *devchain.SubnetParams, v uint64) { p.WeightsVersionKey = v })
	param("commit-reveal", "1 turns commit-reveal on, 0 off", 1, func(p *devchain.SubnetParams, v uint64) { p.CommitReveal = v == 1 })
	param("reveal-period", "epochs between a weights commit and its reveal", 7, func(p *devchain.SubnetParams, v uint64) { p.RevealPeriodEpochs = v })
	param("stake-threshold", "stake in rao a validator needs to set weights", 63, func(p *devchain.SubnetParams, v uint64) { p.StakeThreshold = v })
	sudo := sudoFlag(f)
	chain, err := f.parse(ctx, args, rio, logger)
	if err != nil {
		return err
	}
	defer closeChain(chain)
	admin, err := devchainAdmin(chain, "subnet set")
	if err != nil {
		return err
	}
	subnets, err := admin.Subnets(ctx)
	if err != nil {
		return fmt.Errorf("subnet set: %w", err)
	}
	var p *devchain.SubnetParams
	for i := range subnets {
		if subnets[i].NetUID == f.netuid {
			p = &subnets[i].Params
		}
	}
	if p == nil {
		return fmt.Errorf("subnet set: subnet %d does not exist: %w", f.netuid, fractal.ErrNotFound)
	}
	for _, change := range changes {
		change(p)
	}
	key, err := sudo()
	if err != nil {
		return err
	}
	if err := admin.SetSubnetParams(ctx, key, f.netuid, *p); err != nil {
		return fmt.Errorf("subnet set: %w", err)
	}
	_, err = fmt.Fprintf(rio.Stdout, "subnet %d: %s\n", f.netuid, p)
	return err
}
