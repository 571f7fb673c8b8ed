package main

import (
	"context"
	"os"
	"path/filepath"

	"evidock/internal/s3test"
	"evidock/s3"
)

// gateway is the benchmark's versitygw on a loopback port, started as the
// tests start theirs (internal/s3test). Every upload run gets a bucket of
// its own, removed from disk afterwards.
type gateway struct {
	*s3test.Server
}

// config returns the agent's S3 config for bucket.
func (g *gateway) config(bucket string) s3.Config {
	cfg := g.Config()
	cfg.Bucket = bucket
	return cfg
}

// createBucket makes bucket as the demo does (with Object Lock) and returns
// the agent's store on it.
func (g *gateway) createBucket(ctx context.Context, bucket string) (*s3.Store, error) {
	cfg := g.config(bucket)
	cfg.CreateBucket = true
	return s3.Open(ctx, cfg)
}

// removeBucket deletes bucket and its objects from versitygw's disk
// directly: Object Lock forbids it through the API, and the benchmark's
// disk must not fill up.
func (g *gateway) removeBucket(bucket string) error {
	for _, d := range []string{g.DataDir, g.VersionsDir()} {
		if err := os.RemoveAll(filepath.Join(d, bucket)); err != nil {
			return err
		}
	}
	return nil
}

// gateway returns the shared versitygw, starting it on first use.
func (b *Bench) gateway() (*gateway, error) {
	if b.gw != nil {
		return b.gw, nil
	}
	srv, err := s3test.Launch(b.peers["versitygw"].Path, filepath.Join(b.work, "s3"), false)
	if err != nil {
		return nil, err
	}
	b.gw = &gateway{srv}
	return b.gw, nil
}
