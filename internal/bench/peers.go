package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"

	"evidock/internal/s3test"
)

// peer is an outside program a figure is compared with.
type peer struct {
	Name    string
	Path    string
	Install string // how to get it when missing
	Missing string // the line printed when it is missing, and the skip reason
}

// findPeers looks every peer up; none is installed here.
func findPeers() map[string]*peer {
	peers := map[string]*peer{
		"b3sum":     {Name: "b3sum", Install: "apt-get install b3sum"},
		"rclone":    {Name: "rclone", Install: "apt-get install rclone"},
		"cp":        {Name: "cp", Install: "apt-get install coreutils"},
		"sync":      {Name: "sync", Install: "apt-get install coreutils"},
		"versitygw": {Name: "versitygw", Install: "make tools (scripts/tools.sh builds it into .tools/bin)"},
	}
	for name, p := range peers {
		var err error
		if name == "versitygw" {
			p.Path, err = s3test.Binary()
		} else {
			p.Path, err = exec.LookPath(name)
		}
		if err != nil {
			p.Path, p.Missing = "", fmt.Sprintf("%s not found: %s", name, p.Install)
		}
	}
	return peers
}

// skip returns why a side needing the named peers cannot run, or "".
func (b *Bench) skip(names ...string) string {
	var why []string
	for _, n := range names {
		if p := b.peers[n]; p.Missing != "" {
			why = append(why, p.Missing)
		}
	}
	return strings.Join(why, "; ")
}

// command runs a peer and returns an error holding its output if it fails.
func command(ctx context.Context, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	if env != nil {
		cmd.Env = env
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, tail(out.String(), 2000))
	}
	return nil
}

// output runs a peer and returns its standard output.
func output(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %s", name, err, tail(stderr.String(), 2000))
	}
	return out, nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
