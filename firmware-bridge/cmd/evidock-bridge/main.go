package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// Ctrl-C or a service stop ends a long write (the half-built volume is
	// removed, never left), a download (the verified part stays for
	// --resume) or a simulated recorder.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := NewMain()
	err := m.ParseFlags(ctx, os.Args[1:])
	if err == nil {
		err = m.Run(ctx)
	}
	code := m.Exit(err)
	stop()
	os.Exit(code)
}
