package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"evidock/agent"
	"evidock/agent/sqlite"
)

// ingestReps multiplies the runs of the ingest comparison.
const ingestReps = 3

// ingest compares the agent's ingest of one recorder (the ingest stage
// itself, with its state store: copy + BLAKE3 + fsync + rename + directory
// fsync + the recording marked staged, file after file, each file's fsync
// overlapping the next one's read) with cp of the same files followed by
// sync of the copies (fsync of each, as the agent does; not a whole-machine
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
	dock := &ingestDock{dir: filepath.Join(b.work, "ingest-agent"), set: set}
	ev := &side{Name: "evidock", Bytes: set.Bytes, Prep: func() error { return dock.prep(ctx) }, After: dock.check,
		How: fmt.Sprintf("agent.ScanVolume(recorder of %d files) untimed, then Agent.IngestQueued: the ingest stage, SQLite state", len(set.Files)),
		Run: func() (time.Duration, error) { return timed(func() error { return dock.agent.IngestQueued(ctx) }) }}
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
	b.notef("Ingest: both sides copy the same %s from the page cache to new files in a directory on the work directory's disk, and the copies are deleted after every run. cp copies with copy_file_range (in the kernel, no pass through user space) and `sync FILE...` fsyncs each copy. evidock's side is the agent's own ingest stage on the files queued as one recorder (the scan, which lists them in the agent's SQLite state, is untimed): one read at a time from the recorder; each file read in 1 MiB chunks, each hashed and written side by side, writeback started every 8 MiB, then fsync, rename, fsync of the directory and the recording marked staged (two SQLite commits per file); the next file's read starts once the previous one is read, while that one is fsynced. Every run's digests and states are checked afterwards, untimed.", set.describe())
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

// ingestDock is the agent's side of the ingest comparison: a fresh state
// store and staging directory for every run, and the files queued as one
// recorder's.
type ingestDock struct {
	dir   string
	set   *fileSet
	db    *sqlite.DB
	agent *agent.Agent
}

// prep makes a fresh state store and staging directory and queues the
// files.
func (d *ingestDock) prep(ctx context.Context) error {
	if err := os.RemoveAll(d.dir); err != nil {
		return err
	}
	staging := filepath.Join(d.dir, "staging")
	if err := os.MkdirAll(staging, 0o750); err != nil {
		return err
	}
	db, err := sqlite.Open(ctx, filepath.Join(d.dir, "agent.db"))
	if err != nil {
		return err
	}
	d.db = db
	d.agent = &agent.Agent{StationID: "bench", StagingDir: staging, State: db, Logger: slog.New(slog.DiscardHandler)}
	return d.agent.ScanVolume(ctx, d.set.Dir)
}

// check returns an error unless every file was staged with its digest,
// and removes the state store and the staged copies.
func (d *ingestDock) check() error {
	defer os.RemoveAll(d.dir)
	defer d.db.Close()
	recs, err := d.db.FindRecordings(context.Background(), agent.RecordingFilter{})
	if err != nil {
		return err
	}
	want := map[string]clipFile{}
	for _, f := range d.set.Files {
		want[f.Name] = f
	}
	for _, r := range recs {
		f, ok := want[r.FileName]
		if !ok || r.State != agent.StateStaged || r.Digest != f.Digest || r.Size != f.Size {
			return fmt.Errorf("%s: %s with %s over %d bytes (%s); want staged with %s over %d", r.FileName, r.State, r.Digest, r.Size, r.Error, f.Digest, f.Size)
		}
		delete(want, r.FileName)
	}
	if len(want) > 0 {
		return fmt.Errorf("%d files not ingested", len(want))
	}
	return nil
}
