package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"evidock"
	"evidock/firmware-bridge/protocol"
	"evidock/internal/durable"
)

// PullCommand is `evidock-bridge pull`: downloads recordings over the
// serial link, for recorders without mass storage.
type PullCommand struct {
	Stdout, Stderr io.Writer
	conn           connFlags
	out, name      string
	resume         bool
	chunk          int
	// progressEvery is how often progress is reported on Stderr.
	progressEvery time.Duration
}

func (c *PullCommand) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("pull", flag.ContinueOnError)
	c.conn.register(fs, false)
	fs.StringVar(&c.out, "out", "", "`directory` to download into; created if missing (required)")
	fs.StringVar(&c.name, "name", "", "download only this recording (default: all that are finished)")
	fs.BoolVar(&c.resume, "resume", false, "continue partial downloads (DIR/.NAME.partial) where they stopped, after checking their last chunk")
	fs.IntVar(&c.chunk, "chunk", protocol.DefaultChunkSize, "bytes per READ request")
	return fs
}

// ParseFlags parses the flags: --port and --out are required.
func (c *PullCommand) ParseFlags(ctx context.Context, args []string) error {
	if err := parseFlags("pull", c.flagSet(), args); err != nil {
		return err
	}
	if c.out == "" {
		return usageErrorf("pull", "--out is required: the directory to download into, e.g. --out /var/lib/evidock/pull")
	}
	if c.name != "" {
		if err := protocol.CheckName(c.name); err != nil {
			return usageErrorf("pull", "--name: %v", err)
		}
	}
	if c.chunk < 512 || c.chunk > protocol.MaxPayload-protocol.ChunkOverhead {
		return usageErrorf("pull", "--chunk %d: want 512 to %d", c.chunk, protocol.MaxPayload-protocol.ChunkOverhead)
	}
	return usageFor("pull", c.conn.check(false))
}

// Run downloads the recordings into the output directory: each into a
// hidden .partial file, verified chunk by chunk and by size, fsynced, and
// renamed into place; it prints each file's BLAKE3. A recording already
// there with its size is skipped. On failure the partial file stays, and
// the error says how to resume.
func (c *PullCommand) Run(ctx context.Context) error {
	c.conn.chunk = c.chunk
	client, id, err := c.conn.dial(ctx)
	if err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	defer client.Close()
	list, err := client.List(ctx)
	if err != nil {
		return fmt.Errorf("pull %s: %w", id.DeviceSerial, err)
	}
	var todo []protocol.Entry
	for _, e := range list {
		switch {
		case c.name != "" && e.Name != c.name:
		case e.InProgress():
			fmt.Fprintf(c.Stderr, "skip %s: still recording\n", e.Name)
		default:
			todo = append(todo, e)
		}
	}
	if c.name != "" && len(todo) == 0 {
		return fmt.Errorf("pull %s: no finished recording named %s: %w (see 'evidock-bridge list')", id.DeviceSerial, c.name, protocol.ErrNotFound)
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	var pulled int
	var bytes int64
	for _, e := range todo {
		done, err := c.pull(ctx, client, e)
		if err != nil {
			return fmt.Errorf("pull %s: %w", id.DeviceSerial, err)
		}
		if done {
			pulled++
			bytes += e.Size
		}
	}
	_, err = fmt.Fprintf(c.Stdout, "pulled %d of %d recordings (%s) from %s into %s\n", pulled, len(todo), formatSize(bytes), id.DeviceSerial, c.out)
	return err
}

// pull downloads one recording; it returns false if it was already there.
func (c *PullCommand) pull(ctx context.Context, client *protocol.Client, e protocol.Entry) (bool, error) {
	final := filepath.Join(c.out, e.Name)
	if fi, err := os.Stat(final); err == nil {
		if fi.Size() == e.Size {
			fmt.Fprintf(c.Stderr, "skip %s: already pulled\n", e.Name)
			return false, nil
		}
		return false, fmt.Errorf("%s exists with %d bytes, the recording has %d: move it away and pull again", final, fi.Size(), e.Size)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	partial := filepath.Join(c.out, "."+e.Name+".partial")
	flags := os.O_RDWR | os.O_CREATE
	if !c.resume {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(partial, flags, 0o644)
	if err != nil {
		return false, err
	}
	defer f.Close()
	from, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return false, err
	}
	if from > 0 {
		fmt.Fprintf(c.Stderr, "%s: resuming at %d of %d bytes\n", e.Name, from, e.Size)
	}

	began, last := time.Now(), time.Now()
	n, err := client.Download(ctx, e.Name, f, from, func(n int64) {
		if now := time.Now(); now.Sub(last) >= c.every() || n == e.Size {
			last = now
			fmt.Fprintf(c.Stderr, "%s: %s of %s (%d%%), %.2f MB/s\n", e.Name, formatSize(n), formatSize(e.Size),
				percent(n, e.Size), float64(n-from)/1e6/max(now.Sub(began).Seconds(), 1e-3))
		}
	})
	if err != nil {
		if n > 0 {
			return false, fmt.Errorf("%w\n%s: stopped with %d of %d bytes verified in %s; run again with --resume to continue", err, e.Name, n, e.Size, partial)
		}
		return false, err
	}
	if n != e.Size {
		return false, fmt.Errorf("%s: downloaded %d bytes, the list said %d: %w", e.Name, n, e.Size, protocol.ErrChanged)
	}
	if err := f.Sync(); err != nil {
		return false, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return false, err
	}
	digest, size, err := evidock.DigestOf(f)
	if err != nil {
		return false, err
	}
	if size != e.Size {
		return false, fmt.Errorf("%s holds %d bytes after download, want %d", partial, size, e.Size)
	}
	if err := f.Close(); err != nil {
		return false, err
	}
	if err := os.Rename(partial, final); err != nil {
		return false, err
	}
	if err := durable.SyncDir(c.out); err != nil {
		return false, fmt.Errorf("sync %s: %w", c.out, err)
	}
	_, err = fmt.Fprintf(c.Stdout, "%s\t%d bytes\tblake3 %s\n", final, size, digest)
	return true, err
}

func (c *PullCommand) every() time.Duration {
	if c.progressEvery > 0 {
		return c.progressEvery
	}
	return time.Second
}

// Usage writes the help of pull.
func (c *PullCommand) Usage(w io.Writer) {
	fmt.Fprint(w, `Usage: evidock-bridge pull --port PORT --out DIR [--name NAME] [--resume]

Downloads recordings over the serial link, for recorders without USB mass
storage. Each chunk is checked against its CRC-32 before it is written; each
file is checked against the size the recorder lists, fsynced, and renamed
from DIR/.NAME.partial to DIR/NAME; its BLAKE3 is printed. Recordings still
being made are skipped, and so are those already in DIR.

If the link breaks, run the same command with --resume: it checks the last
chunk of each partial file against the recorder and goes on from there.

Flags:
`)
	printFlags(w, c.flagSet())
}
