package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"evidock"
	"evidock/internal/cli"
	"evidock/internal/durable"
	evhttp "evidock/server/http"
	"evidock/server/translog"
)

// Environment variables that supply defaults for export's --login and
// --password-file.
const (
	EnvLogin        = "EVIDOCK_LOGIN"
	EnvPasswordFile = "EVIDOCK_PASSWORD_FILE"
)

// ExportFlags are the settings of 'evidock export' and 'evidock
// verify-export'.
type ExportFlags struct {
	// Case is the case number to export; ClipsFile lists BLAKE3 digests
	// instead (one a line, as for verify-log --clips).
	Case      string
	ClipsFile string
	Reason    string
	// Output is the tar file written; it appears only when complete and
	// verified.
	Output string
	// KeyFile, if set, holds the log's public key: every receipt is
	// checked against it (required by verify-export).
	KeyFile string
	// Login and PasswordFile say who exports: export is a person's
	// action, audited under their name, never a station's.
	Login, PasswordFile string
	// File is the export verify-export checks.
	File string

	clips    []evidock.Digest
	vkey     string
	password string
}

// parseExport checks the flags of 'evidock export' and reads the clip list,
// the key and the password. It returns a *cli.UsageError naming the flag at
// fault.
func (f *ExportFlags) parseExport(rest []string) error {
	switch {
	case len(rest) > 0:
		return cli.Usagef("export: unexpected argument %q; name the case with --case or the clips with --clips", rest[0])
	case f.Case == "" && f.ClipsFile == "":
		return cli.Usagef("export: name the case with --case NUMBER or the clips with --clips FILE")
	case f.Case != "" && f.ClipsFile != "":
		return cli.Usagef("export: give --case or --clips, not both")
	case strings.TrimSpace(f.Reason) == "":
		return cli.Usagef("export: --reason is required: say why the footage is copied and for whom (Art. 19); it is audited")
	case f.Output == "":
		return cli.Usagef("export: -o FILE is required: where to write the tar")
	case f.Login == "":
		return cli.Usagef("export: --login is required (or set %s): exports are made by a person with the export right", EnvLogin)
	case f.PasswordFile == "":
		return cli.Usagef("export: --password-file is required (or set %s): a file holding the password, or - for standard input", EnvPasswordFile)
	}
	if f.ClipsFile != "" {
		clips, err := readDigests("export: --clips", f.ClipsFile)
		if err != nil {
			return err
		}
		if len(clips) == 0 {
			return cli.Usagef("export: --clips %s lists no clip", f.ClipsFile)
		}
		f.clips = clips
	}
	if f.KeyFile != "" {
		vkey, err := translog.ReadVerifierKey(f.KeyFile)
		if err != nil {
			return cli.Usagef("export: --key: %v", err)
		}
		f.vkey = vkey
	}
	return f.readPassword()
}

// readPassword reads the first line of the password file (or standard
// input, for "-").
func (f *ExportFlags) readPassword() error {
	var r io.Reader = os.Stdin
	if f.PasswordFile != "-" {
		fh, err := os.Open(f.PasswordFile)
		if err != nil {
			return cli.Usagef("export: --password-file: %v", err)
		}
		defer fh.Close()
		r = fh
	}
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return cli.Usagef("export: --password-file: %v", err)
	}
	f.password = strings.TrimRight(line, "\r\n")
	if f.password == "" {
		return cli.Usagef("export: --password-file %s is empty: its first line is the password", f.PasswordFile)
	}
	return nil
}

// parseVerify checks the flags of 'evidock verify-export'.
func (f *ExportFlags) parseVerify(rest []string) error {
	if len(rest) != 1 {
		return cli.Usagef("verify-export: give exactly one export file (a .tar from 'evidock export')")
	}
	f.File = rest[0]
	if f.KeyFile == "" {
		return cli.Usagef("verify-export: --key is required: the log's public key file, from the bureau (not from the export)")
	}
	vkey, err := translog.ReadVerifierKey(f.KeyFile)
	if err != nil {
		return cli.Usagef("verify-export: --key: %v", err)
	}
	f.vkey = vkey
	return nil
}

// readDigests reads a file of BLAKE3 digests, one a line ('#' comments and
// b3sum's "DIGEST  name" lines allowed). what prefixes its usage errors.
func readDigests(what, path string) ([]evidock.Digest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, cli.Usagef("%s: %v", what, err)
	}
	var out []evidock.Digest
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		s, _, _ = strings.Cut(s, " ")
		d, err := evidock.ParseDigest(s)
		if err != nil {
			return nil, cli.Usagef("%s %s line %d: %s", what, path, line, evidock.ErrorMessage(err))
		}
		out = append(out, d)
	}
	return out, nil
}

// export logs in, asks for the export and writes it to a temporary file
// beside Output, checking every clip's BLAKE3 and size against the
// manifest as the bytes arrive (and the receipts, with --key); only a
// complete, verified export is synced and renamed to Output. A cut-off or
// altered export leaves nothing behind and fails.
func (m *Main) export(ctx context.Context) error {
	f := &m.Export
	if _, err := m.client.Login(ctx, f.Login, f.password); err != nil {
		return err
	}
	defer m.client.Logout(context.WithoutCancel(ctx))
	body, err := m.client.Export(ctx, evhttp.ExportRequest{CaseID: f.Case, Clips: f.clips, Reason: f.Reason})
	if err != nil {
		return err
	}
	defer body.Close()
	dir, base := filepath.Split(f.Output)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".part-*")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	counted := &countingWriter{w: tmp}
	src := io.TeeReader(body, counted)
	man, err := evhttp.CheckExport(src, f.vkey)
	if err != nil {
		return fmt.Errorf("export: %w; nothing was written to %s", err, f.Output)
	}
	// Whatever follows the tar's end (nothing, from this server) is kept,
	// and the response must end cleanly: a cut-off one is an error.
	if _, err := io.Copy(io.Discard, src); err != nil {
		return fmt.Errorf("export: the server's answer ended abnormally after the tar: %w; nothing was written to %s", err, f.Output)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("export: sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("export: close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), f.Output); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	done = true
	if err := durable.SyncDir(dir); err != nil {
		return fmt.Errorf("export: %s is written, but syncing its directory failed, so a power cut could still lose its name: %w", f.Output, err)
	}
	var size int64
	for _, c := range man.Clips {
		size += c.Size
	}
	receipts := "receipts not checked: pass --key with the log's public key, or run 'evidock verify-export'"
	if f.vkey != "" {
		receipts = "every receipt verified against " + f.KeyFile
	}
	fmt.Fprintf(m.Stdout, "exported %d clips (%d bytes of footage) to %s (export %s, %d bytes); every BLAKE3 verified; %s\n",
		len(man.Clips), size, f.Output, man.ID, counted.n, receipts)
	return nil
}

// verifyExport checks an export file offline with the log's public key.
func (m *Main) verifyExport(context.Context) error {
	f := &m.Export
	fh, err := os.Open(f.File)
	if err != nil {
		return fmt.Errorf("verify-export: %w", err)
	}
	defer fh.Close()
	man, err := evhttp.CheckExport(bufio.NewReaderSize(fh, 1<<20), f.vkey)
	if err != nil {
		fmt.Fprintf(m.Stdout, "FAIL %s: %s\n", f.File, evidock.ErrorMessage(err))
		return fmt.Errorf("verify-export: %s does not verify", f.File)
	}
	for _, c := range man.Clips {
		fmt.Fprintf(m.Stdout, "OK   %s  %s  %d bytes  log index %d\n", c.Digest, c.Path, c.Size, receiptIndex(c.Receipt))
	}
	fmt.Fprintf(m.Stdout, "%s: export %s by %s at %s, %d clips: every BLAKE3 and receipt verified\n",
		f.File, man.ID, man.ExportedBy, man.ExportedAt.In(evidock.ChinaTime).Format("2006-01-02 15:04:05"), len(man.Clips))
	return nil
}

func receiptIndex(r *evidock.Receipt) int64 {
	if r == nil {
		return -1
	}
	return r.Index
}

// countingWriter counts what it writes.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
