package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"evidock/agent"
)

// Config says what the benchmark measures and on how much data.
type Config struct {
	SizeGiB    float64 // ingest total, split over IngestFiles files
	Out        string  // the Markdown report is also written here
	Readme     string  // the summary replaces the text between markers in this file
	Dir        string  // parent of the work directory; the same disk as staging would be
	Quick      bool    // small sizes for smoke tests
	Reps       int     // runs of each side, alternating A B, B A, ...
	Transfers  int     // uploads at once: agent MaxUploads = rclone --transfers = bare workers
	DropCaches bool    // drop the page cache before every timed run (root; off: the machine is shared)
	Keep       bool    // keep the work directory
	Only       string  // comma-separated sections; empty means all
	CPUProfile string  // write a CPU profile of the run here

	// Derived by Finish.
	IngestFiles    int
	IngestFileSize int64
	LargeSize      int64
	SmallFiles     int
	SmallSize      int64
	PartSize       int64
	Threshold      int64
	Idle           time.Duration
}

// Sections of the report, in the order they run.
var sections = []string{"hash", "ingest", "upload", "idle", "registrations", "latency"}

// DefaultConfig returns the full run of issue 3: 2 GiB of clips for ingest,
// one 1 GiB file and 200 × 5 MiB files for upload, two runs of each side.
func DefaultConfig() Config {
	return Config{SizeGiB: 2, Reps: 2, Transfers: agent.DefaultMaxUploads}
}

// Finish validates c and fills in the sizes; it returns an error naming the
// bad flag.
func (c *Config) Finish() error {
	switch {
	case c.SizeGiB <= 0:
		return fmt.Errorf("-size-gib %v: must be positive", c.SizeGiB)
	case c.Reps < 1:
		return fmt.Errorf("-reps %d: must be at least 1", c.Reps)
	case c.Transfers < 1:
		return fmt.Errorf("-transfers %d: must be at least 1", c.Transfers)
	}
	for _, s := range c.only() {
		if !slices.Contains(sections, s) {
			return fmt.Errorf("-only %q: want a comma-separated list of %s", s, strings.Join(sections, ", "))
		}
	}
	c.PartSize, c.Threshold = agent.DefaultPartSize, agent.DefaultMultipartThreshold
	if c.Quick {
		c.IngestFiles, c.IngestFileSize = 4, 8<<20
		c.LargeSize = 80 << 20 // above the multipart threshold: five 16 MiB parts
		c.SmallFiles, c.SmallSize = 20, 1<<20
		c.Idle = 2 * time.Second
		return nil
	}
	c.IngestFiles = 8
	c.IngestFileSize = int64(c.SizeGiB*float64(1<<30)) / int64(c.IngestFiles) &^ (1<<20 - 1)
	if c.IngestFileSize == 0 {
		return errors.New("-size-gib is too small: the 8 ingest files need at least 1 MiB each")
	}
	c.LargeSize = 1 << 30
	c.SmallFiles, c.SmallSize = 200, 5<<20
	c.Idle = 5 * time.Second
	return nil
}

func (c *Config) only() []string {
	if c.Only == "" {
		return nil
	}
	return strings.Split(c.Only, ",")
}

// runs reports whether section s is part of this run.
func (c *Config) runs(s string) bool { return c.Only == "" || slices.Contains(c.only(), s) }
