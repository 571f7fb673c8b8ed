//go:build !linux

package main

import "errors"

// The benchmark reads /proc and syncs file systems the Linux way; elsewhere
// it builds (GOOS=windows go build ./... stays green) but refuses to run.
var errNotLinux = errors.New("the benchmark runs on Linux only")

func syncFS(string) error             { return errNotLinux }
func dropCaches() error               { return errNotLinux }
func freeSpace(string) (int64, error) { return 0, errNotLinux }
func machine() string                 { return "not Linux" }
func loadAverage() string             { return "?" }
func cpuSIMD() string                 { return "unknown vector extensions" }

type procSample struct {
	TicksCPU, RunNanos, Switches, RSSKiB, HWMKiB int64
	Threads                                      int
	Schedstat                                    bool
}

const clockTicks = 100

func sampleProc(int) (procSample, error) { return procSample{}, errNotLinux }
func commandTicks(string) int64          { return 0 }
func pidTicks(int) int64                 { return 0 }
