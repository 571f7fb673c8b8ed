// Command evidock-agent runs on a docking PC: it ingests docked recorders'
// footage, uploads it to the object store, registers it with the case
// server, and serves the dock screen that tells officers when a recorder is
// safe to unplug (http://127.0.0.1:8441 by default). "evidock-agent status"
// shows the same in a terminal. See configs/agent.yaml and the README.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"evidock/internal/cli"
)

const usage = `usage: evidock-agent <command> [flags]

commands:
  run     --config FILE                 run the docking pipeline and the dock screen until stopped
  status  --config FILE [--watch]       show the docked recorders live, as the dock screen does
  status  --config FILE --all | --wait  show every recording's state; see status -h
  version                               print the version

exit codes: 0 ok, 1 failure, 2 usage or config error, 3 timed out waiting`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, os.Args[1:])
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "evidock-agent:", err)
	}
	os.Exit(exitCode(err))
}

// Run dispatches one command line.
func Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return cli.Usagef("%s", usage)
	}
	switch args[0] {
	case "run":
		m := NewMain()
		if err := m.ParseFlags(args[1:]); err != nil {
			return err
		}
		defer m.Close()
		return m.Run(ctx)
	case "status":
		return runStatus(ctx, args[1:], os.Stdout, os.Stderr)
	case "version":
		fmt.Println("evidock-agent", cli.Version)
		return nil
	case "help", "-h", "--help":
		fmt.Println(usage)
		return nil
	}
	return cli.Usagef("unknown command %q\n%s", args[0], usage)
}
