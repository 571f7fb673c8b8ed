package device_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"evidock"
	"evidock/firmware-bridge/device"
	"evidock/firmware-bridge/protocol"
	"evidock/firmware-bridge/sim"
)

const password = "湘A-123456" // not ASCII, to show passwords are bytes

var start = time.Date(2026, 11, 25, 9, 0, 0, 0, evidock.ChinaTime)

// MustVolume writes a recorder volume with recordings of the given sizes
// and returns its directory and files.
func MustVolume(tb testing.TB, sizes ...int64) (string, []sim.File) {
	tb.Helper()
	durs := make([]time.Duration, len(sizes))
	for i := range durs {
		durs[i] = time.Duration(i+1) * time.Minute
	}
	recs, err := sim.Consecutive(start, 2*time.Minute, 1, sizes, durs)
	if err != nil {
		tb.Fatal(err)
	}
	dir := filepath.Join(tb.TempDir(), "DSJ0001")
	files, err := sim.Volume{DeviceSerial: "DSJ0001", OfficerNo: "100234", Recordings: recs}.Create(context.Background(), dir)
	if err != nil {
		tb.Fatal(err)
	}
	return dir, files
}

// MustConfig returns a device config for a volume.
func MustConfig(tb testing.TB, dir string) device.Config {
	tb.Helper()
	info, err := device.LoadVolume(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return device.Config{Dir: dir, Info: info, Password: password, Battery: 80}
}

// harness runs a device on one end of a link and a client on the other.
type harness struct {
	dev    *device.Device
	client *protocol.Client
	served chan error // Serve's result
}

// startPipe serves cfg over an in-memory pipe. Cleanup closes the client
// and checks that Serve returned.
func startPipe(tb testing.TB, cfg device.Config, opts protocol.ClientOptions) *harness {
	tb.Helper()
	hostEnd, devEnd := net.Pipe()
	return start2(tb, cfg, opts, hostEnd, devEnd)
}

func start2(tb testing.TB, cfg device.Config, opts protocol.ClientOptions, hostEnd io.ReadWriteCloser, devEnd io.ReadWriter) *harness {
	tb.Helper()
	dev, err := device.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{dev: dev, client: protocol.NewClient(hostEnd, opts), served: make(chan error, 1)}
	go func() { h.served <- dev.Serve(ctx, devEnd) }()
	tb.Cleanup(func() {
		h.client.Close()
		cancel()
		select {
		case <-h.served:
		case <-time.After(5 * time.Second):
			tb.Error("Serve did not return within 5 s of the link closing")
		}
	})
	return h
}

// transports start a device and a client over an in-memory pipe or a pty.
var transports = []struct {
	name  string
	start func(testing.TB, device.Config, protocol.ClientOptions) *harness
}{
	{"pipe", startPipe},
	{"pty", func(tb testing.TB, cfg device.Config, opts protocol.ClientOptions) *harness {
		return startPTY(tb, cfg, opts, openers["serial"])
	}},
}

// fast are client options for tests: short waits.
// The pipe is as fast as memory, so the line rate does not lengthen waits.
var fast = protocol.ClientOptions{Timeout: 150 * time.Millisecond, Retries: 3, LineRate: pipeRate}

const pipeRate = 1 << 30

func TestIdentifyAndInfo(t *testing.T) {
	dir, _ := MustVolume(t, 300_000)
	h := startPipe(t, MustConfig(t, dir), fast)
	ctx := context.Background()

	id, err := h.client.Identify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if id.DeviceSerial != "DSJ0001" || id.Major != 1 || id.Model != "DSJ-SIM 模拟仪" ||
		id.Capabilities&protocol.CapDownload == 0 || id.Capabilities&protocol.CapMassStorage == 0 || id.MaxPayload != protocol.MaxPayload {
		t.Errorf("identity %+v", id)
	}

	info, err := h.client.Info(ctx)
	if err != nil || info != (protocol.Info{DeviceSerial: "DSJ0001", OfficerNo: "100234"}) {
		t.Fatalf("info %+v, %v", info, err)
	}

	want := protocol.Info{OfficerNo: "100871", OfficerName: "欧阳娜娜", UnitNo: "320100000001", UnitName: "南京市劳动保障监察支队"}
	stored, err := h.client.SetInfo(ctx, password, want)
	want.DeviceSerial = "DSJ0001" // blank keeps the device's
	if err != nil || stored != want {
		t.Fatalf("SetInfo = %+v, %v; want %+v", stored, err, want)
	}
	if got, err := h.client.Info(ctx); err != nil || got != want {
		t.Errorf("info after SetInfo = %+v, %v", got, err)
	}

	// A wrong password changes nothing.
	_, err = h.client.SetInfo(ctx, "wrong", protocol.Info{OfficerNo: "999999"})
	var de *protocol.DeviceError
	if !errors.Is(err, protocol.ErrBadPassword) || !errors.As(err, &de) || de.Code != protocol.EBadPassword {
		t.Errorf("wrong password: %v, want ErrBadPassword", err)
	}
	if got := h.dev.Info(); got != want {
		t.Errorf("info after a wrong password = %+v", got)
	}
	// The serial is the factory's.
	_, err = h.client.SetInfo(ctx, password, protocol.Info{DeviceSerial: "OTHER01", OfficerNo: "100234"})
	if !errors.Is(err, protocol.ErrBadArg) {
		t.Errorf("another serial: %v, want ErrBadArg", err)
	}
	// A name GBK cannot carry is refused before anything is sent.
	before := h.client.Stats().Requests
	_, err = h.client.SetInfo(ctx, password, protocol.Info{OfficerNo: "100234", OfficerName: "张三😀"})
	if !errors.Is(err, protocol.ErrField) || h.client.Stats().Requests != before {
		t.Errorf("emoji name: %v, %d requests sent", err, h.client.Stats().Requests-before)
	}

	st, err := h.client.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Battery != 80 || st.Width != 1920 || st.Height != 1080 || st.Recordings != 1 ||
		st.StorageTotal != device.DefaultStorageTotal || st.StorageUsed < 300_000 || st.Recording() {
		t.Errorf("status %+v", st)
	}
}

func TestPasswordModes(t *testing.T) {
	dir, _ := MustVolume(t, 300_000)
	ctx := context.Background()

	t.Run("lockout", func(t *testing.T) {
		cfg := MustConfig(t, dir)
		cfg.PasswordMode = device.PasswordLockout
		h := startPipe(t, cfg, fast)
		for i := range 2 {
			if err := h.client.SetTime(ctx, "bad", time.Now()); !errors.Is(err, protocol.ErrBadPassword) {
				t.Fatalf("wrong password %d: %v", i+1, err)
			}
		}
		if err := h.client.SetTime(ctx, "bad", time.Now()); !errors.Is(err, protocol.ErrLocked) {
			t.Fatalf("third wrong password: %v, want ErrLocked", err)
		}
		if err := h.client.SetTime(ctx, password, time.Now()); !errors.Is(err, protocol.ErrLocked) {
			t.Errorf("right password while locked: %v, want ErrLocked", err)
		}
	})

	t.Run("silent", func(t *testing.T) {
		cfg := MustConfig(t, dir)
		cfg.PasswordMode = device.PasswordSilent
		h := startPipe(t, cfg, protocol.ClientOptions{Timeout: 50 * time.Millisecond, Retries: 1, LineRate: pipeRate})
		err := h.client.EnterMassStorage(ctx, "bad")
		var te *protocol.TimeoutError
		if !errors.Is(err, protocol.ErrTimeout) || !errors.As(err, &te) || te.Attempts != 2 || te.Cmd != protocol.CmdEnterMassStorage {
			t.Errorf("silent wrong password: %v, want a timeout after 2 attempts", err)
		}
		if _, err := h.client.Info(ctx); err != nil {
			t.Errorf("the device answers other requests: %v", err)
		}
	})
}

// fakeClock is a host clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestSyncTimeCorrectsDrift(t *testing.T) {
	dir, _ := MustVolume(t, 300_000)
	host := &fakeClock{t: time.Date(2026, 11, 25, 8, 0, 0, 0, evidock.ChinaTime)}
	ppm, err := device.ParseDrift("5s/day")
	if err != nil {
		t.Fatal(err)
	}
	cfg := MustConfig(t, dir)
	cfg.Clock = device.NewClock(-90*time.Second, ppm, host.Now)
	opts := fast
	opts.Now = host.Now
	h := startPipe(t, cfg, opts)
	ctx := context.Background()

	before, after, err := h.client.SyncTime(ctx, password)
	if err != nil {
		t.Fatal(err)
	}
	if before != -90*time.Second || after != 0 {
		t.Errorf("sync: before %s after %s, want -1m30s and 0", before, after)
	}
	host.Add(24 * time.Hour)
	off, _, err := h.client.ClockOffset(ctx)
	if err != nil || off != 5*time.Second {
		t.Errorf("a day later the clock is off by %s, %v; want 5s", off, err)
	}
	if before, after, err = h.client.SyncTime(ctx, password); err != nil || before != 5*time.Second || after != 0 {
		t.Errorf("second sync: %s -> %s, %v", before, after, err)
	}
	if err := h.client.SetTime(ctx, "bad", host.Now()); !errors.Is(err, protocol.ErrBadPassword) {
		t.Errorf("SetTime with a wrong password: %v", err)
	}
}

func TestParseDrift(t *testing.T) {
	for s, want := range map[string]float64{"5s/day": 5e6 / 86400, "-300ms/hour": -300e3 / 3600, "30ppm": 30, "0": 0, "": 0} {
		got, err := device.ParseDrift(s)
		if err != nil || got-want > 1e-9 || want-got > 1e-9 {
			t.Errorf("ParseDrift(%q) = %g, %v; want %g", s, got, err, want)
		}
	}
	for _, s := range []string{"5s", "5s/week", "fast", "25h/day", "xppm"} {
		if _, err := device.ParseDrift(s); err == nil {
			t.Errorf("ParseDrift(%q) = nil error", s)
		}
	}
}

func TestListPagesAndImportant(t *testing.T) {
	sizes := make([]int64, 40)
	for i := range sizes {
		sizes[i] = int64(sim.MinMP4Size + i)
	}
	dir, files := MustVolume(t, sizes...)
	cfg := MustConfig(t, dir)
	cfg.MaxPayload = 512 // about 8 entries a page
	cfg.Recording = true
	name := func(i int) string { return filepath.Base(files[i].Path) }
	cfg.Important = []string{name(3)}
	h := startPipe(t, cfg, fast)
	h.dev.MarkImportant(name(39))
	ctx := context.Background()
	if _, err := h.client.Identify(ctx); err != nil {
		t.Fatal(err)
	}

	before := h.client.Stats().Requests
	list, err := h.client.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pages := h.client.Stats().Requests - before; pages < 5 {
		t.Errorf("%d LIST requests for 40 entries in 512-byte payloads, want at least 5", pages)
	}
	if len(list) != len(files) {
		t.Fatalf("%d entries, want %d", len(list), len(files))
	}
	for i, e := range list {
		f := files[i]
		want := protocol.Entry{Name: name(i), Size: f.Recording.Size, StartedAt: f.Recording.StartedAt, Duration: f.Recording.Duration}
		if i == 3 || i == 39 {
			want.Flags |= protocol.EntryImportant
		}
		if i == 39 {
			want.Flags |= protocol.EntryInProgress
		}
		if e.Name != want.Name || e.Size != want.Size || !e.StartedAt.Equal(want.StartedAt) || e.Duration != want.Duration || e.Flags != want.Flags {
			t.Errorf("entry %d = %+v\nwant %+v", i, e, want)
		}
	}
	if !list[3].Important() || list[4].Important() || !list[39].InProgress() {
		t.Error("flag accessors disagree")
	}

	// The generation changes when a recording appears.
	p1, err := h.client.ListPage(ctx, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	extra := filepath.Join(dir, "DCIM", "100MEDIA", "DSJ0001_100234_20261126090000_0099.MP4")
	if err := os.WriteFile(extra, make([]byte, 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	p2, err := h.client.ListPage(ctx, 0, 1)
	if err != nil || p2.Generation == p1.Generation || p2.Total != 41 {
		t.Errorf("after a new recording: generation %x -> %x, total %d, %v", p1.Generation, p2.Generation, p2.Total, err)
	}
}

// digestOf returns the BLAKE3 of a file.
func digestOf(tb testing.TB, name string) evidock.Digest {
	tb.Helper()
	f, err := os.Open(name)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	d, _, err := evidock.DigestOf(f)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func TestDownload(t *testing.T) {
	dir, files := MustVolume(t, 3_000_000, 200_000)
	h := startPipe(t, MustConfig(t, dir), fast)
	ctx := context.Background()
	src := filepath.Join(dir, filepath.FromSlash(files[0].Path))
	name := filepath.Base(src)

	out, err := os.Create(filepath.Join(t.TempDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	var last int64
	calls := 0
	n, err := h.client.Download(ctx, name, out, 0, func(n int64) {
		if n <= last {
			t.Errorf("progress went from %d to %d", last, n)
		}
		last = n
		calls++
	})
	if err != nil || n != 3_000_000 || last != n {
		t.Fatalf("Download = %d, %v; last progress %d", n, err, last)
	}
	if want := (3_000_000 + protocol.DefaultChunkSize - 1) / protocol.DefaultChunkSize; calls != want {
		t.Errorf("%d progress calls, want one per %d-byte chunk: %d", calls, protocol.DefaultChunkSize, want)
	}
	if got, want := digestOf(t, out.Name()), digestOf(t, src); got != want {
		t.Errorf("BLAKE3 %s, want %s", got, want)
	}

	// A recording that is not there, and a name that is not a name.
	if _, err := h.client.Download(ctx, "DSJ0001_100234_20261125090000_0404.MP4", out, 0, nil); !errors.Is(err, protocol.ErrNotFound) {
		t.Errorf("missing recording: %v, want ErrNotFound", err)
	}
	if _, err := h.client.Download(ctx, "../../etc/passwd", out, 0, nil); !errors.Is(err, protocol.ErrField) {
		t.Errorf("bad name: %v, want ErrField", err)
	}
}

// TestResumeAfterStall stops the device in the middle of a chunk, checks
// that the client gives up with a timeout instead of hanging, then resumes
// on a new link (the recorder plugged in again) from the verified offset.
func TestResumeAfterStall(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) { testResumeAfterStall(t, tr.start) })
	}
}

func testResumeAfterStall(t *testing.T, startLink func(testing.TB, device.Config, protocol.ClientOptions) *harness) {
	dir, files := MustVolume(t, 2_500_000)
	src := filepath.Join(dir, filepath.FromSlash(files[0].Path))
	name := filepath.Base(src)
	ctx := context.Background()
	opts := protocol.ClientOptions{Timeout: 100 * time.Millisecond, Retries: 2, ChunkSize: 64 << 10, LineRate: pipeRate}

	cfg := MustConfig(t, dir)
	cfg.Faults.StallAfter = 1_000_000
	h := startLink(t, cfg, opts)
	out, err := os.Create(filepath.Join(t.TempDir(), name+".partial"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()

	began := time.Now()
	n, err := h.client.Download(ctx, name, out, 0, nil)
	var te *protocol.TimeoutError
	if !errors.Is(err, protocol.ErrTimeout) || !errors.As(err, &te) || te.Cmd != protocol.CmdRead {
		t.Fatalf("stalled download: %v, want a READ timeout", err)
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("gave up after %s", took)
	}
	chunk := int64(protocol.MaxPayload - protocol.ChunkOverhead) // the device's limit
	if n <= 0 || n%chunk != 0 || n > 1_000_000 {
		t.Fatalf("stalled at %d bytes, want whole chunks before 1000000", n)
	}
	if fi, _ := out.Stat(); fi.Size() != n {
		t.Errorf("partial file has %d bytes, Download says %d", fi.Size(), n)
	}
	t.Logf("stalled after %d verified bytes: %v", n, err)

	// Plugged in again: a new link, no fault.
	var mu sync.Mutex
	var offsets []int64
	cfg.Faults = device.Faults{}
	cfg.OnRequest = func(f protocol.Frame) {
		var r protocol.ReadRequest
		if f.Cmd == protocol.CmdRead && r.UnmarshalBinary(f.Payload) == nil {
			mu.Lock()
			offsets = append(offsets, r.Offset)
			mu.Unlock()
		}
	}
	h2 := startLink(t, cfg, opts)
	total, err := h2.client.Download(ctx, name, out, n, nil)
	if err != nil || total != 2_500_000 {
		t.Fatalf("resumed download: %d, %v", total, err)
	}
	mu.Lock()
	// First the check of the last chunk before n, then on from n.
	if len(offsets) < 2 || offsets[0] != n-chunk || offsets[1] != n {
		t.Errorf("READ offsets %v, want %d (check) then %d", offsets[:min(3, len(offsets))], n-chunk, n)
	}
	mu.Unlock()
	if got, want := digestOf(t, out.Name()), digestOf(t, src); got != want {
		t.Errorf("BLAKE3 after resume %s, want %s", got, want)
	}

	// A partial file that is not this recording is caught.
	if _, err := out.WriteAt([]byte("tampered"), n-100); err != nil {
		t.Fatal(err)
	}
	if _, err := h2.client.Download(ctx, name, out, n, nil); !errors.Is(err, protocol.ErrResumeBroken) {
		t.Errorf("resume onto other bytes: %v, want ErrResumeBroken", err)
	}
	if _, err := h2.client.Download(ctx, name, out, 3_000_000, nil); !errors.Is(err, protocol.ErrResumeBroken) {
		t.Errorf("resume beyond the end: %v, want ErrResumeBroken", err)
	}
}

// TestNoisyLink garbles and drops bytes both ways; the client retries and
// every byte arrives right.
func TestNoisyLink(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) { testNoisyLink(t, tr.start) })
	}
}

func testNoisyLink(t *testing.T, startLink func(testing.TB, device.Config, protocol.ClientOptions) *harness) {
	dir, files := MustVolume(t, 256<<10)
	src := filepath.Join(dir, filepath.FromSlash(files[0].Path))
	cfg := MustConfig(t, dir)
	cfg.Faults = device.Faults{Seed: 7, GarbleRate: 1e-4, DropRate: 5e-5}
	h := startLink(t, cfg, protocol.ClientOptions{Timeout: 60 * time.Millisecond, Retries: 8, ChunkSize: 2 << 10, LineRate: pipeRate})
	ctx := context.Background()

	if _, err := h.client.SetInfo(ctx, password, protocol.Info{OfficerNo: "100234", OfficerName: "张三"}); err != nil {
		t.Fatal(err)
	}
	var buf writerAt
	n, err := h.client.Download(ctx, filepath.Base(src), &buf, 0, nil)
	if err != nil || n != 256<<10 {
		t.Fatalf("Download over a noisy link: %d, %v (stats %+v)", n, err, h.client.Stats())
	}
	want, _ := os.ReadFile(src)
	if !bytes.Equal(buf.b, want) {
		t.Error("downloaded bytes differ")
	}
	st := h.client.Stats()
	t.Logf("stats: %+v", st)
	if st.Retransmits == 0 || st.Damaged == 0 {
		t.Errorf("no retransmits or damaged frames counted on a noisy link: %+v", st)
	}
}

// writerAt is an in-memory io.WriterAt.
type writerAt struct{ b []byte }

func (w *writerAt) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > len(w.b) {
		w.b = append(w.b, make([]byte, end-len(w.b))...)
	}
	return copy(w.b[off:], p), nil
}

func TestSlowLink(t *testing.T) {
	dir, files := MustVolume(t, 60_000)
	cfg := MustConfig(t, dir)
	cfg.Faults.BytesPerSecond = 200_000
	h := startPipe(t, cfg, protocol.ClientOptions{Timeout: 200 * time.Millisecond, LineRate: 200_000})
	var buf writerAt
	began := time.Now()
	n, err := h.client.Download(context.Background(), filepath.Base(files[0].Path), &buf, 0, nil)
	if err != nil || n != 60_000 {
		t.Fatalf("slow download: %d, %v", n, err)
	}
	t.Logf("60 kB at 200 kB/s took %s", time.Since(began).Round(time.Millisecond))
}

func TestDeviceStopsAnswering(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) { testDeviceStopsAnswering(t, tr.start) })
	}
}

func testDeviceStopsAnswering(t *testing.T, startLink func(testing.TB, device.Config, protocol.ClientOptions) *harness) {
	dir, _ := MustVolume(t, 300_000)
	cfg := MustConfig(t, dir)
	cfg.Faults.StallAfter = 80 // the IDENTIFY answer (70 bytes) and a bit
	h := startLink(t, cfg, protocol.ClientOptions{Timeout: 100 * time.Millisecond, Retries: 2, LineRate: pipeRate})
	ctx := context.Background()
	if _, err := h.client.Identify(ctx); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	_, err := h.client.Status(ctx)
	var te *protocol.TimeoutError
	if !errors.As(err, &te) || te.Attempts != 3 || !strings.Contains(err.Error(), "no answer in 3 attempts") {
		t.Fatalf("Status from a stalled device: %v", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("took %s to give up", took)
	}
	// Cancelling the context ends a call at once.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := h.client.Status(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled call: %v, want context.DeadlineExceeded", err)
	}
}

func TestMassStorage(t *testing.T) {
	dir, _ := MustVolume(t, 300_000)
	h := startPipe(t, MustConfig(t, dir), fast)
	ctx := context.Background()
	if err := h.client.EnterMassStorage(ctx, "wrong"); !errors.Is(err, protocol.ErrBadPassword) {
		t.Fatalf("wrong password: %v", err)
	}
	if err := h.client.EnterMassStorage(ctx, password); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-h.served:
		if !errors.Is(err, device.ErrMassStorage) {
			t.Errorf("Serve = %v, want ErrMassStorage", err)
		}
		h.served <- err // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after ENTER_MSC")
	}

	cfg := MustConfig(t, dir)
	cfg.NoMassStorage = true
	h = startPipe(t, cfg, fast)
	if err := h.client.EnterMassStorage(ctx, password); !errors.Is(err, protocol.ErrUnknownCmd) {
		t.Errorf("recorder without mass storage: %v, want ErrUnknownCmd", err)
	}
}

// rawLink talks frames to a device directly, without the client.
type rawLink struct {
	tb   testing.TB
	conn net.Conn
	dec  *protocol.Decoder
}

func startRaw(tb testing.TB, cfg device.Config) *rawLink {
	tb.Helper()
	dev, err := device.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	hostEnd, devEnd := net.Pipe()
	done := make(chan struct{})
	go func() { dev.Serve(context.Background(), devEnd); close(done) }()
	tb.Cleanup(func() { hostEnd.Close(); devEnd.Close(); <-done })
	return &rawLink{tb: tb, conn: hostEnd, dec: protocol.NewDecoder(hostEnd)}
}

func (r *rawLink) send(b []byte) protocol.Frame {
	r.tb.Helper()
	r.conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := r.conn.Write(b); err != nil {
		r.tb.Fatal(err)
	}
	f, err := r.dec.ReadFrame()
	if err != nil {
		r.tb.Fatal(err)
	}
	return f
}

func frame(tb testing.TB, f protocol.Frame) []byte {
	tb.Helper()
	if f.Version == 0 {
		f.Version = protocol.Version
	}
	b, err := f.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func errCode(tb testing.TB, f protocol.Frame) protocol.ErrorCode {
	tb.Helper()
	if !f.IsError() {
		return 0
	}
	var body protocol.ErrorBody
	if err := body.UnmarshalBinary(f.Payload); err != nil {
		tb.Fatal(err)
	}
	return body.Code
}

// TestDeviceFrames checks the device's side of the rules at the frame
// level: repeated sequence numbers, damaged requests, unknown commands and
// versions.
func TestDeviceFrames(t *testing.T) {
	dir, _ := MustVolume(t, 300_000)
	cfg := MustConfig(t, dir)
	cfg.PasswordMode = device.PasswordLockout // counts wrong passwords
	r := startRaw(t, cfg)

	// The same wrong-password request five times is one wrong password.
	req, _ := protocol.SetTimeRequest{Password: "bad", Time: start}.AppendBinary(nil)
	b := frame(t, protocol.Frame{Cmd: protocol.CmdSetTime, Seq: 500, Payload: req})
	var first protocol.Frame
	for i := range 5 {
		f := r.send(b)
		if i == 0 {
			first = f
		}
		if f.Seq != 500 || errCode(t, f) != protocol.EBadPassword || !bytes.Equal(f.Payload, first.Payload) {
			t.Fatalf("repeat %d: seq %d code %s", i, f.Seq, errCode(t, f))
		}
	}
	// A new sequence number is a new request: the second wrong one.
	if f := r.send(frame(t, protocol.Frame{Cmd: protocol.CmdSetTime, Seq: 501, Payload: req})); errCode(t, f) != protocol.EBadPassword {
		t.Errorf("second wrong password: %s", errCode(t, f))
	}
	if f := r.send(frame(t, protocol.Frame{Cmd: protocol.CmdSetTime, Seq: 502, Payload: req})); errCode(t, f) != protocol.ELocked {
		t.Errorf("third wrong password: %s, want ELOCKED", errCode(t, f))
	}

	// A request damaged after its header gets ECRC with its SEQ.
	damaged := frame(t, protocol.Frame{Cmd: protocol.CmdGetInfo, Seq: 600, Payload: []byte{1, 2, 3}})
	damaged[protocol.HeaderSize+1] ^= 0xFF
	if f := r.send(damaged); f.Seq != 600 || f.Cmd != protocol.CmdGetInfo || errCode(t, f) != protocol.ECRC {
		t.Errorf("damaged request: seq %d cmd %s code %s", f.Seq, f.Cmd, errCode(t, f))
	}
	// Noise before a request is skipped.
	noisy := append([]byte{0xEB, 0x00, 0xEB, 0x90, 0x01}, frame(t, protocol.Frame{Cmd: protocol.CmdGetInfo, Seq: 601})...)
	if f := r.send(noisy); f.Seq != 601 || f.IsError() || len(f.Payload) != protocol.InfoSize {
		t.Errorf("request after noise: seq %d, error %v", f.Seq, f.IsError())
	}
	if f := r.send(frame(t, protocol.Frame{Cmd: 0x7F, Seq: 602})); errCode(t, f) != protocol.EUnknownCmd || f.Cmd != 0x7F {
		t.Errorf("unknown command: %s", errCode(t, f))
	}
	if f := r.send(frame(t, protocol.Frame{Version: 2, Cmd: protocol.CmdGetInfo, Seq: 603})); errCode(t, f) != protocol.EVersion || f.Version != 1 {
		t.Errorf("version 2: %s in version %d", errCode(t, f), f.Version)
	}
	if f := r.send(frame(t, protocol.Frame{Cmd: protocol.CmdRead, Seq: 604, Payload: []byte{3, 'A'}})); errCode(t, f) != protocol.EMalformed {
		t.Errorf("short READ: %s, want EMALFORMED", errCode(t, f))
	}
	rr, _ := protocol.ReadRequest{Name: "DSJ0001_100234_20261125090000_0001.MP4", Offset: 1 << 40, Length: 10}.AppendBinary(nil)
	if f := r.send(frame(t, protocol.Frame{Cmd: protocol.CmdRead, Seq: 605, Payload: rr})); errCode(t, f) != protocol.EBadArg {
		t.Errorf("READ beyond the end: %s, want EBADARG", errCode(t, f))
	}
}
