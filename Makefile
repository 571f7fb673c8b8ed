# evidock: `make demo` runs the whole path on embedded defaults, `make test`
# runs the tests. Both install what they need (versitygw) into .tools/.

GO       ?= go
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X evidock/internal/cli.Version=$(VERSION)
BINARIES := bin/evidock-agent bin/evidock-server bin/evidock-bridge bin/evidock

.PHONY: all build tools test fuzz demo bench vet clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/evidock-agent ./agent/cmd/evidock-agent
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/evidock-server ./server/cmd/evidock-server
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/evidock-bridge ./firmware-bridge/cmd/evidock-bridge
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/evidock ./server/cmd/evidock

# Tools the tests and the demo run: versitygw (the S3-compatible server).
tools:
	scripts/tools.sh

vet:
	$(GO) vet ./...
	GOOS=windows $(GO) build ./...

# Unit and integration tests against a real versitygw and SQLite, a quick
# run of the benchmark (needs b3sum and rclone), then a short run of every
# fuzz target.
test: tools vet
	$(GO) test -count=1 -timeout 20m ./...
	EVIDOCK_BENCH_SMOKE=1 $(GO) test -count=1 -timeout 5m -run '^TestQuickSmoke$$' ./internal/bench
	$(MAKE) fuzz

# Execution counts, not durations: a duration -fuzztime can fail at its
# deadline on a loaded machine (golang/go#75804, unfixed in Go 1.26).
FUZZTIME ?= 10000x
# Every fuzz target, as package:Target; each gets a short run.
FUZZ_TARGETS = \
	.:FuzzParseRecordingName \
	./server/http:FuzzDecodeClip \
	./server/http:FuzzDecodeRecorder \
	./server/http:FuzzDecodeCase \
	./server/http:FuzzDecodeActivity \
	./server/http:FuzzDecodeLinkChange \
	./server/translog:FuzzParseRecord \
	./server/translog:FuzzParseCheckpoint \
	./internal/blake3wide:FuzzHasher \
	./firmware-bridge/sim:FuzzReadMP4Info \
	./firmware-bridge/sim:FuzzParseSize \
	./firmware-bridge/protocol:FuzzDecodeFrame \
	./firmware-bridge/protocol:FuzzUnmarshalPayload \
	./agent/usb:FuzzParseMountInfo \
	./agent/usb:FuzzParseDeviceInstanceID

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) "$${t%%:*}"; \
	done

# Speed against peers (cp + sync, b3sum, rclone, a bare aws-sdk-go-v2 loop),
# and the case server against raw INSERTs and at 1M clips, side by side in
# one run on about 4 GiB of generated clips; about 7 minutes
# on 2 cores. Needs b3sum and rclone (apt-get install b3sum rclone): a missing
# peer's rows are skipped, not estimated. Writes var/bench.md and the table
# in README.md (between the bench:begin/end markers).
bench: tools
	mkdir -p var
	$(GO) run ./internal/bench -out var/bench.md -readme README.md

demo: tools build
	scripts/demo.sh

clean:
	rm -rf bin var
