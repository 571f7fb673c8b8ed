package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	// Ctrl-C stops a long write; the half-built volume is removed, never left.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	m := NewMain()
	err := m.ParseFlags(ctx, os.Args[1:])
	if err == nil {
		err = m.Run(ctx)
	}
	code := m.Exit(err)
	stop()
	os.Exit(code)
}
