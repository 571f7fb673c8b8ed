package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"evidock"
	"evidock/agent"
)

// hashReps multiplies the runs of the hashing sides: each takes well under
// a second, and a short run is the easiest for a busy neighbour to spoil.
const hashReps = 5

// hashing compares agent.HashFile (the staged copy's re-read, and the
// second read of a recording) with b3sum: one large file on one
// thread each, then many files with one goroutine per core against b3sum's
// default (a thread pool, used within each file).
func (b *Bench) hashing(ctx context.Context) error {
	large, small := b.largeSet, b.smallSet
	one := &side{Name: "evidock", Bytes: large.Bytes,
		How: fmt.Sprintf("agent.HashFile(file) (%s on the calling goroutine, from a memory mapping of the file; a second goroutine maps the pages ahead)", evidock.HashImplementation()),
		Run: func() (time.Duration, error) { return timed(func() error { return digestFiles(large.Files, 1) }) }}
	oneB3 := &side{Name: "b3sum", Bytes: large.Bytes, Skip: b.skip("b3sum"),
		How: "b3sum --num-threads 1 FILE",
		Run: func() (time.Duration, error) {
			return timed(func() error { return b3sum(ctx, large.Files, "--num-threads", "1") })
		}}
	b.alternateN("hash one file", hashReps*b.cfg.Reps, one, oneB3)
	b.addRow(fmt.Sprintf("hash one file (%s), 1 thread", large.describe()), one, oneB3, 0.9)

	workers := runtime.NumCPU()
	many := &side{Name: "evidock", Bytes: small.Bytes,
		How: fmt.Sprintf("agent.HashFile per file, %d goroutines (one per core)", workers),
		Run: func() (time.Duration, error) {
			return timed(func() error { return digestFiles(small.Files, workers) })
		}}
	manyB3 := &side{Name: "b3sum", Bytes: small.Bytes, Skip: b.skip("b3sum"),
		How: fmt.Sprintf("b3sum FILE×%d (default threads)", len(small.Files)),
		Run: func() (time.Duration, error) { return timed(func() error { return b3sum(ctx, small.Files) }) }}
	b.alternateN("hash many files", hashReps*b.cfg.Reps, many, manyB3)
	b.addRow(fmt.Sprintf("hash many files (%s), %d cores", small.describe(), workers), many, manyB3, 0.9)
	b.notef("Hashing: the CPU offers %s; evidock hashes with %s (internal/blake3wide has an AVX-512 kernel, zeebo/blake3 SSE4.1 and AVX2 ones); b3sum (the Rust blake3 crate) picks the widest it was built with.", cpuSIMD(), evidock.HashImplementation())
	b.notef("Hashing: evidock hashes one file on one goroutine, so the many-files figure runs one goroutine per core; b3sum spreads each file over its thread pool. Both sides read the files through a memory mapping (evidock's HashFile on Unix, where a file can be mapped; b3sum on every platform), so neither copies the bytes out of the page cache first. For a file larger than its mapping window (64 MiB), HashFile maps the pages into the page table ahead of the hashing from a second goroutine (madvise MADV_POPULATE_READ), so the one-file figure uses a little of a second core, which b3sum does not. Both sides' digests are checked against the ones computed while the clips were generated. Hashing runs %d times per side, not %d: each run is short.", hashReps*b.cfg.Reps, b.cfg.Reps)
	return nil
}

// digestFiles hashes files with workers goroutines and checks every digest.
func digestFiles(files []clipFile, workers int) error { return forEach(files, workers, digestFile) }

func digestFile(f clipFile) error {
	r, err := os.Open(f.Path)
	if err != nil {
		return err
	}
	defer r.Close()
	d, n, err := agent.HashFile(r)
	switch {
	case err != nil:
		return err
	case n != f.Size || d != f.Digest:
		return fmt.Errorf("%s: HashFile gave %s over %d bytes, want %s over %d", f.Name, d, n, f.Digest, f.Size)
	}
	return nil
}

// b3sum hashes files with b3sum and checks its digests.
func b3sum(ctx context.Context, files []clipFile, flags ...string) error {
	args := flags
	for _, f := range files {
		args = append(args, f.Path)
	}
	out, err := output(ctx, "b3sum", args...)
	if err != nil {
		return err
	}
	want := map[string]string{}
	for _, f := range files {
		want[f.Path] = f.Digest.String()
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	seen := 0
	for sc.Scan() {
		digest, path, ok := strings.Cut(sc.Text(), "  ")
		if !ok || want[path] != digest {
			return fmt.Errorf("b3sum printed %q; want %s for %s", sc.Text(), want[path], path)
		}
		seen++
	}
	if seen != len(files) {
		return fmt.Errorf("b3sum printed %d digests for %d files", seen, len(files))
	}
	return nil
}
