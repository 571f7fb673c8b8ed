package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"evidock"
)

// clipFile is one generated recording: pseudo-random bytes (nothing
// compresses or dedups) under a name the agent accepts.
type clipFile struct {
	Path   string
	Name   string
	Size   int64
	Digest evidock.Digest
	Rec    evidock.RecordingName
}

// fileSet is a directory of generated recordings.
type fileSet struct {
	Dir   string
	Files []clipFile
	Bytes int64
}

// Paths returns the files' paths in order.
func (s *fileSet) Paths() []string {
	p := make([]string, len(s.Files))
	for i, f := range s.Files {
		p[i] = f.Path
	}
	return p
}

// describe says "8 × 256 MiB" or "1 × 1.0 GiB".
func (s *fileSet) describe() string {
	return fmt.Sprintf("%d × %s", len(s.Files), sizeString(s.Files[0].Size))
}

// recordingStart is when the first generated recording began.
var recordingStart = time.Date(2026, 11, 25, 9, 0, 0, 0, evidock.ChinaTime)

// generateSets writes the ingest, large and small sets under dir, n files
// at a time, hashing them as they are written.
func generateSets(ctx context.Context, dir string, specs []setSpec) ([]*fileSet, error) {
	type job struct {
		f    *clipFile
		seed uint64
	}
	var jobs []job
	sets := make([]*fileSet, len(specs))
	for i, sp := range specs {
		s := &fileSet{Dir: filepath.Join(dir, sp.Name)}
		if err := os.MkdirAll(s.Dir, 0o755); err != nil {
			return nil, err
		}
		s.Files = make([]clipFile, sp.Count)
		for j := range s.Files {
			seq := sp.SeqBase + j
			started := recordingStart.Add(time.Duration(seq) * time.Minute)
			name := fmt.Sprintf("BEN0001_100234_%s_%04d.MP4", started.Format("20060102150405"), seq)
			rec, err := evidock.ParseRecordingName(name)
			if err != nil {
				return nil, fmt.Errorf("generated name: %w", err)
			}
			s.Files[j] = clipFile{Path: filepath.Join(s.Dir, name), Name: name, Size: sp.Size, Rec: rec}
			s.Bytes += sp.Size
		}
		for j := range s.Files {
			jobs = append(jobs, job{&s.Files[j], uint64(seqSeed(i, j))})
		}
		sets[i] = s
	}
	work := make(chan job)
	errs := make(chan error, len(jobs))
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Go(func() {
			for j := range work {
				errs <- writeRandom(ctx, j.f, j.seed)
			}
		})
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return sets, nil
}

// setSpec says what generateSets writes into one subdirectory.
type setSpec struct {
	Name    string
	Count   int
	Size    int64
	SeqBase int
}

func seqSeed(set, file int) int { return set<<20 | file }

// writeRandom fills f.Path with f.Size bytes from a ChaCha8 stream seeded
// by seed, so that every file differs (different digests, different object
// keys), and records their digest.
func writeRandom(ctx context.Context, f *clipFile, seed uint64) error {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	copy(key[8:], "evidock bench data")
	rng := rand.NewChaCha8(key)
	out, err := os.Create(f.Path)
	if err != nil {
		return err
	}
	defer out.Close()
	h := evidock.NewHasher()
	buf := make([]byte, 4<<20)
	for left := f.Size; left > 0; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(left, int64(len(buf)))
		rng.Read(buf[:n])
		h.Write(buf[:n])
		if _, err := out.Write(buf[:n]); err != nil {
			return fmt.Errorf("generate %s: %w", f.Path, err)
		}
		left -= n
	}
	f.Digest = h.Digest()
	return out.Close()
}

// sizeString writes n bytes in binary units: "256 MiB", "1.0 GiB".
func sizeString(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
