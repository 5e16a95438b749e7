// Command fractal runs every part of the Fractal grid: miners, validators,
// the gateway API, the reference engine, a development chain, and tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/fractal-grid/fractal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// IO is what a subcommand may touch besides its flags.
type IO struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Run runs one subcommand and returns the process exit status: 0 on success,
// 2 for invalid input (flags, specs), 1 for any other failure.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	rio := IO{Stdin: stdin, Stdout: stdout, Stderr: stderr}
	if len(args) == 0 {
		printUsage(stderr)
		return 2
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "":
		_ = rest
	case "version":
		err = runVersion(rio)
	case "up":
		err = runUp(ctx, rio, rest)
	case "generate":
		err = runGenerate(ctx, rio, rest)
	case "engine":
		err = runEngine(ctx, rio, rest)
	case "miner":
		err = runMiner(ctx, rio, rest)
	case "validator":
		err = runValidator(ctx, rio, rest)
	case "gateway":
		err = runGateway(ctx, rio, rest)
	case "bench":
		err = runBench(ctx, rio, rest)
	case "devchain":
		err = runDevchain(ctx, rio, rest)
	case "chain":
		err = runChain(ctx, rio, rest)
	case "wallet":
		err = runWallet(rio, rest)
	case "help", "-h", "--help":
		printUsage(stdout)
		return 0
	default:
		err = usageErrorf("unknown command %q (see 'fractal help')", cmd)
	}
	return exitStatus(err, stderr)
}

func exitStatus(err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "fractal: interrupted")
		return 130
	case errors.Is(err, fractal.ErrInvalid), errors.As(err, new(*usageError)):
		fmt.Fprintf(stderr, "fractal: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "fractal: %v\n", err)
		return 1
	}
}

// usageError is a mistake in the command line; it exits with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// parseFlags parses args into fs, turning flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageErrorf("%s: %v", fs.Name(), err)
	}
	return nil
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `fractal — a decentralized text-to-video inference grid on Bittensor

Usage: fractal <command> [flags]

Commands:
  up          run a whole grid on this machine: chain, miners, validator, API and web page
  version     print the version and the engine profile
  generate    generate a video from a prompt with the reference engine
  miner       run a miner (prover): serve the engine to validators
  validator   run a validator (verifier): challenge, verify, score, set weights
  gateway     run a gateway replica (the video API); 'gateway keys' manages API keys
  engine      serve the built-in engine over the engine protocol
  bench       run a benchmark (routing, load)
  devchain    run a development chain served over HTTP
  chain       read and write a chain: metagraph, register, stake, subnets
  wallet      create, list and show btcli wallets (new, list, show)
  help        show this help

Run 'fractal <command> -h' for a command's flags.
`)
}
