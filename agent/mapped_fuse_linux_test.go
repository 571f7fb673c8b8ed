package agent

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"evidock"
)

// TestReadMappedIOError hashes, from its memory mapping, a file on a
// recorder that stops answering partway: a FUSE file system (served by a
// child process) whose reads fail with EIO from a given byte on, as a
// recorder pulled out or on a bad cable does. The kernel then raises
// SIGBUS on the mapping, in the BLAKE3 kernel or the prefaulter's way;
// readMapped must return an error and the agent must not crash. An intact
// file on the same file system hashes right, so the mapping path is the
// one tested.
func TestReadMappedIOError(t *testing.T) {
	if _, err := os.Stat("/dev/fuse"); err != nil || os.Geteuid() != 0 {
		msg := fmt.Sprintf("NEEDS ROOT AND /dev/fuse (%v): hashing from a mapping of a recorder with read errors was not tested", err)
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true, so this is a failure: %s", msg) // CI runs as root
		}
		t.Skipf("SKIPPING: %s", msg)
	}
	for _, tc := range []struct {
		name         string
		size, failAt int64
	}{
		{"intact, 2 windows", mapWindow + 3<<20, -1},
		{"fails at 1 MiB, 1 window", 4 << 20, 1 << 20},
		{"fails at 8 MiB, 2 windows", mapWindow + 3<<20, 8 << 20},
		{"fails in the second window", mapWindow + 3<<20, mapWindow + 1<<20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := mountRecorder(t, tc.size, tc.failAt)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var chunks int64
			h := evidock.NewHasher()
			n, mapped, err := readMapped(f, func(b []byte) {
				chunks++
				h.Write(b)
			})
			if !mapped {
				t.Fatal("the file was not mapped: the test would not reach the mapping path")
			}
			if tc.failAt < 0 {
				want, _, _ := evidock.DigestOf(io.LimitReader(&patternReader{}, tc.size))
				if d, n, err := HashFile(f); err != nil || d != want || n != tc.size {
					t.Errorf("HashFile of an intact file = %s, %d, %v; want %s, %d", d, n, err, want, tc.size)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "could not be read") || n > tc.failAt {
				t.Fatalf("readMapped = %d bytes, %v; want at most %d bytes and a page that could not be read", n, err, tc.failAt)
			}
			t.Logf("after %d chunks: %v", chunks, err)
		})
	}
}

// patternReader reads the bytes of the test recorder's file: byte i is a
// mix of i's bits, so that a misplaced page hashes differently.
type patternReader struct{ off int64 }

func (p patternReader) fill(b []byte, off int64) {
	for i := range b {
		x := uint64(off + int64(i))
		b[i] = byte(x ^ x>>8 ^ x>>16 ^ x>>24)
	}
}

func (p *patternReader) Read(b []byte) (int, error) {
	p.fill(b, p.off)
	p.off += int64(len(b))
	return len(b), nil
}

// mountRecorder serves, from a child process, a FUSE file system with one
// file of size bytes whose reads fail with EIO from failAt on (never if
// failAt < 0), and returns the file's path. A child, because a process
// that faults on a mapping of its own FUSE file can deadlock with its own
// garbage collector.
func mountRecorder(t *testing.T, size, failAt int64) string {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperRecorderFS$", "-test.v")
	cmd.Env = append(os.Environ(), "EVIDOCK_RECORDER_FS="+dir,
		"EVIDOCK_RECORDER_SIZE="+strconv.FormatInt(size, 10), "EVIDOCK_RECORDER_FAIL_AT="+strconv.FormatInt(failAt, 10))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close() // the child unmounts and exits
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			exec.Command("umount", "-l", dir).Run()
			<-done
		}
	})
	lines := bufio.NewScanner(stdout)
	var said strings.Builder // the child's test output, for the failure
	for lines.Scan() {
		if lines.Text() == "mounted" {
			go io.Copy(io.Discard, stdout)
			return filepath.Join(dir, "clip.mp4")
		}
		said.WriteString(lines.Text() + "\n")
	}
	t.Fatalf("the recorder file system did not mount: %s%s", said.String(), stderr.String())
	return ""
}

// TestHelperRecorderFS is not a test of its own: mountRecorder runs it in
// a child process to serve the recorder's file system until its standard
// input closes.
func TestHelperRecorderFS(t *testing.T) {
	dir := os.Getenv("EVIDOCK_RECORDER_FS")
	if dir == "" {
		t.Skip("run by mountRecorder in a child process")
	}
	size, err := strconv.ParseInt(os.Getenv("EVIDOCK_RECORDER_SIZE"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	failAt, err := strconv.ParseInt(os.Getenv("EVIDOCK_RECORDER_FAIL_AT"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	root := &recorderDir{file: &recorderFile{size: size, failAt: failAt}}
	server, err := fs.Mount(dir, root, &fs.Options{MountOptions: fuse.MountOptions{
		DirectMount: true, DirectMountStrict: true, FsName: "recorder", Name: "evidocktest"}})
	if err != nil {
		t.Fatalf("mount: %v", err)
	}
	fmt.Println("mounted")
	io.Copy(io.Discard, os.Stdin)
	if err := server.Unmount(); err != nil {
		exec.Command("umount", "-l", dir).Run()
	}
}

type recorderDir struct {
	fs.Inode
	file *recorderFile
}

var _ = (fs.NodeOnAdder)((*recorderDir)(nil))

func (d *recorderDir) OnAdd(ctx context.Context) {
	d.AddChild("clip.mp4", d.NewPersistentInode(ctx, d.file, fs.StableAttr{Mode: fuse.S_IFREG}), false)
}

type recorderFile struct {
	fs.Inode
	size, failAt int64
}

var (
	_ = (fs.NodeGetattrer)((*recorderFile)(nil))
	_ = (fs.NodeOpener)((*recorderFile)(nil))
	_ = (fs.NodeReader)((*recorderFile)(nil))
)

func (f *recorderFile) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode, out.Size = 0o444, uint64(f.size)
	return 0
}

func (f *recorderFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	return nil, 0, 0
}

func (f *recorderFile) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	end := min(off+int64(len(dest)), f.size)
	if f.failAt >= 0 && end > f.failAt {
		return nil, syscall.EIO
	}
	if off >= end {
		return fuse.ReadResultData(nil), 0
	}
	b := dest[:end-off]
	patternReader{}.fill(b, off)
	return fuse.ReadResultData(b), 0
}
