package e2e_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/zeebo/blake3"

	"evidock"
	"evidock/agent"
	agentsqlite "evidock/agent/sqlite"
	"evidock/firmware-bridge/sim"
)

var (
	crashRounds = flag.Int("crash.rounds", 50, "rounds of start-then-SIGKILL in TestCrashHarness")
	crashSeed   = flag.Uint64("crash.seed", 0, "seed of the kill instants (0: from the clock)")
)

// TestCrashHarness runs the real agent binary and kills it with SIGKILL at
// random instants across copying, uploading, registering and clearing,
// docking a new recorder every few rounds. Throughout, a watcher checks that
// no file leaves a recorder before the case server has it registered. At the
// end every recording must be registered exactly once, every stored object
// must hold the original bytes, and no multipart upload may be left.
func TestCrashHarness(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL harness needs a Unix")
	}
	e := newEnv(t)
	bin := buildAgent(t)
	config := e.writeAgentConfig(t)
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("crash harness: %d rounds, seed %d (rerun with -crash.seed=%d)", *crashRounds, seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	// Every docked file, by its path on the recorder, with its digest.
	var mu sync.Mutex
	onRecorders := map[string]docked{}
	dockNext := func(i int) {
		serial := fmt.Sprintf("CRS%04d", i)
		v := crashVolume(serial, rng)
		for _, f := range e.dock(serial, v) {
			mu.Lock()
			onRecorders[filepath.Join(e.mountRoot, serial, f.Path)] = f
			mu.Unlock()
		}
	}

	// The watcher: a file gone from a recorder must be registered already.
	stopWatch := make(chan struct{})
	var violations []string
	var watched sync.WaitGroup
	watched.Add(1)
	go func() {
		defer watched.Done()
		seen := map[string]bool{}
		for {
			select {
			case <-stopWatch:
				return
			case <-time.After(5 * time.Millisecond):
			}
			mu.Lock()
			var gone []docked
			for p, f := range onRecorders {
				if !seen[p] {
					if _, err := os.Stat(p); os.IsNotExist(err) {
						seen[p] = true
						gone = append(gone, f)
					}
				}
			}
			mu.Unlock()
			for _, f := range gone {
				var d evidock.Digest
				copy(d[:], f.BLAKE3)
				if _, err := e.serverDB.FindClipByDigest(context.Background(), d); err != nil {
					violations = append(violations, fmt.Sprintf("%s left its recorder before it was registered: %v", f.Name, err))
				}
			}
		}
	}()

	// Which pipeline states had recordings in them at each kill, to show
	// that the kills landed across the pipeline.
	killedIn := map[agent.State]int{}
	volumes := 0
	for round := 0; round < *crashRounds; round++ {
		if round%10 == 0 {
			dockNext(volumes)
			volumes++
		}
		cmd := startAgent(t, bin, config, filepath.Join(t.TempDir(), "agent.log"))
		time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		for st := range pendingStates(t, e.stateCopyPath()) {
			killedIn[st]++
		}
	}
	t.Logf("kills with recordings in each state: %v", killedIn)

	// A last run without kills finishes the work.
	logPath := filepath.Join(t.TempDir(), "agent.log")
	cmd := startAgent(t, bin, config, logPath)
	recs := waitAgentSettled(t, e.stateCopyPath(), len(onRecorders), logPath)
	_ = cmd.Process.Signal(os.Interrupt)
	_ = cmd.Wait()
	close(stopWatch)
	watched.Wait()

	for _, v := range violations {
		t.Error(v)
	}
	ctx := context.Background()
	byName := map[string]*agent.Recording{}
	for _, r := range recs {
		if r.State != agent.StateCleared {
			t.Errorf("%s: %s %q, want cleared", r.FileName, r.State, r.Error)
		}
		byName[r.FileName] = r
	}
	if len(recs) != len(onRecorders) {
		t.Errorf("agent tracks %d recordings, %d were docked", len(recs), len(onRecorders))
	}
	_, total, err := e.client.FindClips(ctx, evidock.ClipFilter{Limit: 1000})
	if err != nil || total != len(onRecorders) {
		t.Errorf("registry holds %d clips (%v), want %d: each recording exactly once", total, err, len(onRecorders))
	}
	for p, f := range onRecorders {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s still on its recorder", f.Name)
		}
		var d evidock.Digest
		copy(d[:], f.BLAKE3)
		clip, err := e.client.FindClipByDigest(ctx, d)
		if err != nil || clip.FileName != f.Name || clip.Size != f.Size {
			t.Errorf("%s: registry %+v, %v", f.Name, clip, err)
			continue
		}
		rc, err := e.store.OpenObject(ctx, clip.ObjectKey)
		if err != nil {
			t.Errorf("%s: %v", f.Name, err)
			continue
		}
		h := blake3.New()
		n, _ := io.Copy(h, rc)
		rc.Close()
		if n != f.Size || string(h.Sum(nil)) != f.BLAKE3 {
			t.Errorf("%s: stored object differs from the original (%d bytes)", f.Name, n)
		}
		if r := byName[f.Name]; r == nil || r.ClipID != clip.ID {
			t.Errorf("%s: agent receipt %+v does not name clip %d", f.Name, r, clip.ID)
		}
	}
	if ups, err := e.store.ListUploads(ctx, ""); err != nil || len(ups) != 0 {
		t.Errorf("multipart uploads left behind: %v, %v", ups, err)
	}
}

// pendingStates returns the states that hold pending recordings.
func pendingStates(t *testing.T, path string) map[agent.State]bool {
	db, err := agentsqlite.Open(context.Background(), path)
	if err != nil {
		return nil // killed before it created its state
	}
	defer db.Close()
	recs, err := db.FindRecordings(context.Background(), agent.RecordingFilter{})
	if err != nil {
		t.Fatal(err)
	}
	states := map[agent.State]bool{}
	for _, r := range recs {
		if r.State.Pending() {
			states[r.State] = true
		}
	}
	return states
}

// crashVolume is a recorder with a mix of multipart-sized and small files.
func crashVolume(serial string, rng *rand.Rand) sim.Volume {
	sizes := []int64{12<<20 + int64(rng.IntN(1<<20)), 7 << 20, 2 << 20, 700 << 10, 90 << 10, 5000 + int64(rng.IntN(5000))}
	durs := make([]time.Duration, len(sizes))
	for i := range durs {
		durs[i] = time.Minute
	}
	recs, _ := sim.Consecutive(time.Date(2026, 11, 25, 9, 0, 0, 0, evidock.ChinaTime), time.Minute, 1, sizes, durs)
	return sim.Volume{DeviceSerial: serial, OfficerNo: "100234", Recordings: recs, Seed: rng.Uint64()}
}

// buildAgent compiles the real agent binary once per test binary.
func buildAgent(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "evidock-agent")
	out, err := exec.Command("go", "build", "-o", bin, "evidock/agent/cmd/evidock-agent").CombinedOutput()
	if err != nil {
		t.Fatalf("build agent: %v\n%s", err, out)
	}
	return bin
}

func startAgent(t *testing.T, bin, config, logPath string) *exec.Cmd {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	cmd := exec.Command(bin, "run", "--config", config)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// writeAgentConfig writes a config for the real agent binary that matches
// the in-process agent of e (same state, staging and mount root).
func (e *env) writeAgentConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	secret := filepath.Join(dir, "s3.secret")
	token := filepath.Join(dir, "station.token")
	must(t, os.WriteFile(secret, []byte(e.s3.SecretKey), 0o600))
	must(t, os.WriteFile(token, []byte(e.token), 0o600))
	logKey := filepath.Join(dir, "log.key.pub")
	must(t, os.WriteFile(logKey, []byte(e.logKey+"\n"), 0o644))
	config := filepath.Join(dir, "agent.yaml")
	must(t, os.WriteFile(config, []byte(fmt.Sprintf(`station_id: dock-01
mount_root: %s
staging_dir: %s
state_path: %s
settle: 100ms
staging_reserve_mib: 0
staging_low_water_mib: 0
dock_screen: {listen: ""}
upload: {multipart_threshold_mib: 6, part_size_mib: 5}
server: {url: %q, token_file: %s, log_public_key_file: %s}
s3: {endpoint: %q, bucket: %s, access_key_id: %s, secret_access_key_file: %s}
`, e.mountRoot, e.agent.StagingDir, e.stateCopyPath(), e.serverURL, token, logKey, e.s3.Endpoint, e.s3.Bucket, e.s3.AccessKey, secret)), 0o600))
	return config
}

// stateCopyPath is where the agent binary keeps its state in these tests.
func (e *env) stateCopyPath() string {
	return filepath.Join(filepath.Dir(e.agent.StagingDir), "agent-bin.db")
}

// waitAgentSettled polls the state database of a running agent binary.
func waitAgentSettled(t *testing.T, path string, n int, logPath string) []*agent.Recording {
	t.Helper()
	db, err := agentsqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		recs, err := db.FindRecordings(context.Background(), agent.RecordingFilter{})
		if err != nil {
			t.Fatal(err)
		}
		pending := 0
		for _, r := range recs {
			if r.State.Pending() {
				pending++
			}
		}
		if pending == 0 && len(recs) >= n {
			return recs
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("agent binary did not settle: %d known, %d pending, want %d\n%s", len(recs), pending, n, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
