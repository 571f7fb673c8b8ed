# evidock: `make demo` runs the whole path on embedded defaults, `make test`
# runs the tests. Both install what they need (versitygw) into .tools/.

GO       ?= go
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X evidock/internal/cli.Version=$(VERSION)
BINARIES := bin/evidock-agent bin/evidock-server bin/evidock-bridge bin/evidock

.PHONY: all build tools test test-short fuzz demo vet windows clean

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

# Unit and integration tests against a real versitygw and SQLite, then a
# short run of every fuzz target.
test: tools vet
	$(GO) test -count=1 -timeout 20m ./...
	$(MAKE) fuzz

FUZZTIME ?= 5s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseRecordingName$$' -fuzztime $(FUZZTIME) .
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeClip$$' -fuzztime $(FUZZTIME) ./server/http
	$(GO) test -run '^$$' -fuzz '^FuzzReadMP4Info$$' -fuzztime $(FUZZTIME) ./firmware-bridge/sim
	$(GO) test -run '^$$' -fuzz '^FuzzParseSize$$' -fuzztime $(FUZZTIME) ./firmware-bridge/sim
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeFrame$$' -fuzztime $(FUZZTIME) ./firmware-bridge/protocol
	$(GO) test -run '^$$' -fuzz '^FuzzUnmarshalPayload$$' -fuzztime $(FUZZTIME) ./firmware-bridge/protocol
	$(GO) test -run '^$$' -fuzz '^FuzzParseMountInfo$$' -fuzztime $(FUZZTIME) ./agent/usb

demo: tools build
	scripts/demo.sh

clean:
	rm -rf bin var
