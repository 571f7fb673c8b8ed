package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
)

func TestParseInterleaved(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	j := fs.Bool("json", false, "")
	s := fs.String("server", "", "")
	rest, err := Parse(fs, []string{"abc", "--json", "--server", "http://h", "def", "--", "--json"})
	if err != nil || !*j || *s != "http://h" || fmt.Sprint(rest) != "[abc def --json]" {
		t.Fatalf("Parse = %v, %v (json %v, server %q)", rest, err, *j, *s)
	}
	var usage *UsageError
	if _, err := Parse(flag.NewFlagSet("x", flag.ContinueOnError), []string{"--nope"}); !errors.As(err, &usage) {
		t.Fatalf("unknown flag: %v; want a UsageError", err)
	}
	if _, err := Parse(flag.NewFlagSet("x", flag.ContinueOnError), []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v; want flag.ErrHelp", err)
	}
}

func TestExit(t *testing.T) {
	for _, tt := range []struct {
		err  error
		code int
		out  string
	}{
		{nil, ExitOK, ""},
		{flag.ErrHelp, ExitOK, ""},
		{Usagef("--id is required"), ExitUsage, "prog: --id is required\nRun 'prog help' for usage.\n"},
		{fmt.Errorf("wrapped: %w", Usagef("bad")), ExitUsage, "prog: wrapped: bad\n"},
		{errors.New("server down"), ExitFailure, "prog: server down\n"},
	} {
		var buf bytes.Buffer
		if code := Exit(&buf, "prog", tt.err); code != tt.code || !strings.HasPrefix(buf.String(), tt.out) {
			t.Errorf("Exit(%v) = %d, %q; want %d, %q", tt.err, code, buf.String(), tt.code, tt.out)
		}
	}
}
