package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// Bench holds what the sections share: the config, the peers found, the
// work directory with the generated clips, and the rows so far.
type Bench struct {
	cfg   Config
	log   io.Writer
	peers map[string]*peer
	work  string // removed by Close unless -keep

	ingestSet, largeSet, smallSet *fileSet

	gw      *gateway // started by the first section that needs it
	rows    []row
	sides   []reported
	buckets int
	notes   []string
	start   time.Time
	load    string // the load average at start
}

// NewBench finds the peers, says which are missing, and makes the work
// directory. It returns an error if there is no room for the test data.
func NewBench(ctx context.Context, cfg Config, log io.Writer) (*Bench, error) {
	if runtime.GOOS != "linux" {
		return nil, errNotLinuxRun
	}
	b := &Bench{cfg: cfg, log: log, peers: findPeers(), start: time.Now(), load: loadAverage()}
	for _, name := range []string{"cp", "sync", "b3sum", "rclone", "versitygw"} {
		if p := b.peers[name]; p.Missing != "" {
			b.logf("%s", p.Missing)
		}
	}
	parent := cfg.Dir
	if parent == "" {
		parent = os.TempDir()
	}
	need := 2*int64(cfg.IngestFiles)*cfg.IngestFileSize + 2*cfg.LargeSize + 2*int64(cfg.SmallFiles)*cfg.SmallSize + 1<<30
	if free, err := freeSpace(parent); err != nil {
		return nil, fmt.Errorf("free space in %s: %w", parent, err)
	} else if free < need {
		return nil, fmt.Errorf("%s has %s free, the benchmark needs about %s: use -dir on a larger disk or a smaller -size-gib",
			parent, sizeString(free), sizeString(need))
	}
	var err error
	if b.work, err = os.MkdirTemp(parent, "evidock-bench-"); err != nil {
		return nil, err
	}
	return b, nil
}

var errNotLinuxRun = errors.New("the benchmark runs on Linux only (it reads /proc)")

func (b *Bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "bench: "+format+"\n", args...)
}

// Run generates the clips the sections need, once, measures the sections
// asked for and returns the report. A section or side that failed shows as
// an error row, and Run then returns the report and an error naming every
// failure.
func (b *Bench) Run(ctx context.Context) (string, error) {
	var specs []setSpec
	var dsts []**fileSet
	need := func(name string, count int, size int64, seqBase int, dst **fileSet, sections ...string) {
		for _, sec := range sections {
			if b.cfg.runs(sec) {
				specs = append(specs, setSpec{Name: name, Count: count, Size: size, SeqBase: seqBase})
				dsts = append(dsts, dst)
				return
			}
		}
	}
	need("ingest", b.cfg.IngestFiles, b.cfg.IngestFileSize, 1, &b.ingestSet, "ingest")
	need("large", 1, b.cfg.LargeSize, 101, &b.largeSet, "hash", "upload")
	need("small", b.cfg.SmallFiles, b.cfg.SmallSize, 1001, &b.smallSet, "hash", "upload")
	if len(specs) > 0 {
		var total int64
		for _, s := range specs {
			total += int64(s.Count) * s.Size
		}
		b.logf("generating %s of pseudo-random clips in %s", sizeString(total), b.work)
		d, err := timed(func() error {
			sets, err := generateSets(ctx, filepath.Join(b.work, "clips"), specs)
			for i, set := range sets {
				*dsts[i] = set
			}
			return err
		})
		if err != nil {
			return "", fmt.Errorf("generate test data: %w", err)
		}
		b.logf("generated in %v", d.Round(time.Millisecond))
		if err := syncFS(b.work); err != nil {
			return "", fmt.Errorf("sync test data: %w", err)
		}
	}

	var failed []error
	for _, s := range []struct {
		name string
		run  func(context.Context) error
	}{
		{"hash", b.hashing},
		{"ingest", b.ingest},
		{"upload", b.upload},
		{"idle", b.idle},
		{"registrations", b.registrationSection},
		{"latency", b.latencySection},
	} {
		if !b.cfg.runs(s.name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return "", err
		}
		b.logf("%s:", s.name)
		if err := s.run(ctx); err != nil {
			// The other sections still run: a report with one error row
			// says more than none.
			b.logf("%s: FAILED: %v", s.name, err)
			failed = append(failed, fmt.Errorf("%s: %w", s.name, err))
			b.rows = append(b.rows, row{Figure: s.name, Evidock: "error", Peer: "—", Ratio: "—", Goal: "—", Met: "error: " + err.Error()})
		}
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	for _, r := range b.sides {
		if r.side.Err != nil {
			failed = append(failed, fmt.Errorf("%s / %s: %w", r.figure, r.side.Name, r.side.Err))
		}
	}
	return b.report(), errors.Join(failed...)
}

// Close stops versitygw and removes the work directory unless -keep.
func (b *Bench) Close() error {
	if b.gw != nil {
		b.gw.Stop()
	}
	if b.work == "" {
		return nil
	}
	if b.cfg.Keep {
		b.logf("kept %s", b.work)
		return nil
	}
	return os.RemoveAll(b.work)
}
