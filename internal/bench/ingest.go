package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"evidock/agent"
)

// ingestReps multiplies the runs of the ingest comparison.
const ingestReps = 3

// ingest compares the agent's one-pass copy + BLAKE3 + fsync, file after
// file as one recorder is read, with cp of the same files followed by sync
// of the copies (fsync of each, as the agent does; not a whole-machine
// sync, which would also flush other workers' writes).
func (b *Bench) ingest(ctx context.Context) error {
	set := b.ingestSet
	out := filepath.Join(b.work, "ingest-out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var dsts []string
	for _, f := range set.Files {
		dsts = append(dsts, filepath.Join(out, f.Name))
	}
	clean := func() error {
		for _, d := range dsts {
			if err := os.Remove(d); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
		return nil
	}
	ev := &side{Name: "evidock", Bytes: set.Bytes, After: clean,
		How: "agent.CopyAndHash(src, dst, size) per file, sequentially",
		Run: func() (time.Duration, error) {
			return timed(func() error {
				for i, f := range set.Files {
					if err := copyAndHash(ctx, f, dsts[i]); err != nil {
						return err
					}
				}
				return nil
			})
		}}
	cp := &side{Name: "cp + sync", Bytes: set.Bytes, After: clean, Skip: b.skip("cp", "sync"),
		How: fmt.Sprintf("cp FILE×%d DIR/ && sync COPY×%d", len(dsts), len(dsts)),
		Run: func() (time.Duration, error) {
			return timed(func() error {
				if err := command(ctx, nil, "cp", append(set.Paths(), out+"/")...); err != nil {
					return err
				}
				return command(ctx, nil, "sync", dsts...)
			})
		}}
	b.notef("Ingest: both sides copy the same %s from the page cache to new files in one directory on the work directory's disk, and the copies are deleted after every run. cp copies with copy_file_range (in the kernel, no pass through user space) and `sync FILE...` fsyncs each copy; CopyAndHash reads 1 MiB, hashes it, writes it, and fsyncs at the end of each file.", set.describe())
	// One untimed copy first: the first writes into memory the page cache
	// has not used yet are slow on a VM, and would fall on whichever side
	// ran first.
	warm := ev
	if cp.Skip == "" {
		warm = cp
	}
	if _, err := b.runOnce(warm); err != nil {
		return fmt.Errorf("warm-up copy: %w", err)
	}
	b.notef("Ingest: one untimed warm-up run of %s came first, so that first-touch costs of fresh page-cache memory fall on neither side.", warm.Name)
	// This VM's disk absorbs some runs' writes in the host's cache and not
	// others': single runs of either side vary two- to fivefold (measured
	// here), so each side runs ingestReps times as often as the others.
	b.alternateN("ingest", ingestReps*b.cfg.Reps, ev, cp)
	b.notef("Ingest: %d runs of each side, alternating, best shown: single runs of both sides vary two- to fivefold with the host's disk cache.", ingestReps*b.cfg.Reps)
	b.addRow(fmt.Sprintf("ingest %s (%s): copy + BLAKE3 + fsync", sizeString(set.Bytes), set.describe()), ev, cp, 0.9)
	return nil
}

func copyAndHash(ctx context.Context, f clipFile, dst string) error {
	src, err := os.Open(f.Path)
	if err != nil {
		return err
	}
	defer src.Close()
	d, err := agent.CopyAndHash(ctx, src, dst, f.Size)
	if err != nil {
		return err
	}
	if d != f.Digest {
		return fmt.Errorf("CopyAndHash of %s gave %s, want %s", f.Name, d, f.Digest)
	}
	return nil
}
