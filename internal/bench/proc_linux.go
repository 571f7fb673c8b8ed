package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// syncFS writes back the dirty pages of the file system holding dir.
func syncFS(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Syncfs(fd)
}

// dropCaches empties the page cache, dentries and inodes (root only).
func dropCaches() error {
	return os.WriteFile("/proc/sys/vm/drop_caches", []byte("3"), 0)
}

// freeSpace returns the bytes available to us on dir's file system.
func freeSpace(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// procSample is a process's CPU use and memory at one moment.
type procSample struct {
	TicksCPU  int64 // utime + stime of all threads, dead ones included, in clock ticks
	RunNanos  int64 // sum of the live threads' run time from schedstat; 0 if unavailable
	Switches  int64 // voluntary + involuntary context switches of the live threads
	RSSKiB    int64 // VmRSS
	HWMKiB    int64 // VmHWM, the peak RSS
	Threads   int
	Schedstat bool
}

// clockTicks is USER_HZ, which Linux fixes at 100 for /proc.
const clockTicks = 100

// sampleProc reads /proc/pid.
func sampleProc(pid int) (procSample, error) {
	var s procSample
	dir := fmt.Sprintf("/proc/%d", pid)
	var err error
	if s.TicksCPU, err = sampleTicks(dir); err != nil {
		return s, err
	}
	status, err := readStatus(dir + "/status")
	if err != nil {
		return s, err
	}
	s.RSSKiB, s.HWMKiB = status["VmRSS"], status["VmHWM"]
	tasks, err := filepath.Glob(dir + "/task/*")
	if err != nil {
		return s, err
	}
	s.Threads, s.Schedstat = len(tasks), true
	for _, t := range tasks {
		if b, err := os.ReadFile(t + "/schedstat"); err == nil {
			if f := strings.Fields(string(b)); len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				s.RunNanos += n
			}
		} else {
			s.Schedstat = false
		}
		if st, err := readStatus(t + "/status"); err == nil {
			s.Switches += st["voluntary_ctxt_switches"] + st["nonvoluntary_ctxt_switches"]
		}
	}
	return s, nil
}

// readStatus returns the numeric fields of a /proc status file (kB values in KiB).
func readStatus(path string) (map[string]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(strings.Fields(v + " x")[0], 10, 64); err == nil {
			m[k] = n
		}
	}
	return m, sc.Err()
}

// machine describes the CPU and kernel for the report's header. The family
// and model tell CPU generations apart that cloud machines all name alike
// ("AMD EPYC"), and the generation decides how fast the peers' AVX-512
// code runs against zeebo/blake3's AVX2.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		info := map[string]string{}
		for _, line := range strings.Split(string(b), "\n") {
			if line == "" {
				break // the first processor is enough
			}
			if k, v, ok := strings.Cut(line, ":"); ok {
				info[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
		if name := info["model name"]; name != "" {
			model = name
			if f, m := info["cpu family"], info["model"]; f != "" && m != "" {
				model += fmt.Sprintf(" (family %s, model %s)", f, m)
			}
		}
	}
	var uts unix.Utsname
	kernel := "linux"
	if unix.Uname(&uts) == nil {
		kernel = "Linux " + unix.ByteSliceToString(uts.Release[:])
	}
	return model + ", " + kernel
}

// cpuSIMD lists the vector extensions that matter to BLAKE3 on this CPU.
func cpuSIMD() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown vector extensions"
	}
	var have []string
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "flags" {
			flags := strings.Fields(v)
			for _, f := range []string{"sse4_1", "avx2", "avx512f", "avx512vl"} {
				if slices.Contains(flags, f) {
					have = append(have, f)
				}
			}
			break
		}
	}
	if len(have) == 0 {
		return "none of SSE4.1, AVX2, AVX-512"
	}
	return strings.Join(have, ", ")
}

// loadAverage returns the 1-minute load average, as /proc/loadavg says.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b) + " ?")[0]
}

// commandTicks returns the CPU clock ticks (utime + stime) used so far by
// the live processes whose command name is comm, e.g. every PostgreSQL
// backend.
func commandTicks(comm string) int64 {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var total int64
	for _, d := range dirs {
		if b, err := os.ReadFile(d + "/comm"); err != nil || strings.TrimSpace(string(b)) != comm {
			continue
		}
		if s, err := sampleTicks(d); err == nil {
			total += s
		}
	}
	return total
}

// pidTicks returns the CPU clock ticks used so far by process pid.
func pidTicks(pid int) int64 {
	t, _ := sampleTicks(fmt.Sprintf("/proc/%d", pid))
	return t
}

// sampleTicks returns utime + stime (fields 14 and 15) of the process
// whose /proc directory is dir.
func sampleTicks(dir string) (int64, error) {
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	rest := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	if len(rest) < 13 {
		return 0, fmt.Errorf("short %s/stat", dir)
	}
	utime, _ := strconv.ParseInt(rest[11], 10, 64)
	stime, _ := strconv.ParseInt(rest[12], 10, 64)
	return utime + stime, nil
}
