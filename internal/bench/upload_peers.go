package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// rcloneSide runs rclone copy of set's directory into a new bucket, with
// transfers files and parts (per file) in flight.
func (b *Bench) rcloneSide(ctx context.Context, gw *gateway, label string, set *fileSet, transfers, parts int) *side {
	var bucket string
	conf := filepath.Join(b.work, "rclone.conf") // empty: the remote comes from the environment
	// Nothing from the environment's AWS settings (AWS_CA_BUNDLE, profiles):
	// the remote is exactly the one below, as evidock's store is.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "RCLONE_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"RCLONE_CONFIG_BENCH_TYPE=s3",
		"RCLONE_CONFIG_BENCH_PROVIDER=Other",
		"RCLONE_CONFIG_BENCH_ENV_AUTH=false",
		"RCLONE_CONFIG_BENCH_ACCESS_KEY_ID="+gw.AccessKey,
		"RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY="+gw.SecretKey,
		"RCLONE_CONFIG_BENCH_ENDPOINT="+gw.Endpoint,
		"RCLONE_CONFIG_BENCH_REGION=us-east-1",
	)
	flags := []string{"--config", conf, "-q",
		"--transfers", fmt.Sprint(transfers), "--s3-upload-concurrency", fmt.Sprint(parts),
		"--s3-chunk-size", fmt.Sprintf("%dMi", b.cfg.PartSize>>20), "--s3-upload-cutoff", fmt.Sprintf("%dMi", b.cfg.Threshold>>20),
		"--s3-no-check-bucket", "--expect-continue-timeout", "0", "--s3-force-path-style"}
	return &side{Name: "rclone", Bytes: set.Bytes, Skip: b.skip("rclone"),
		How: "rclone copy DIR bench:BUCKET " + strings.Join(flags[2:], " "),
		Prep: func() error {
			if err := os.WriteFile(conf, nil, 0o600); err != nil {
				return err
			}
			bucket = b.bucketName("rclone", label)
			_, err := gw.createBucket(ctx, bucket)
			return err
		},
		Run: func() (time.Duration, error) {
			return timed(func() error {
				return command(ctx, env, "rclone", append([]string{"copy", set.Dir, "bench:" + bucket}, flags...)...)
			})
		},
		After: func() error {
			err := countObjects(ctx, gw, bucket, set)
			if rerr := gw.removeBucket(bucket); err == nil {
				err = rerr
			}
			return err
		},
	}
}

// bareSide runs a plain aws-sdk-go-v2 loop: workers PutObject calls at once
// for files up to the multipart threshold; for larger ones a multipart
// upload with parts part uploads at once.
func (b *Bench) bareSide(ctx context.Context, gw *gateway, label string, set *fileSet, workers, parts int) *side {
	var bucket string
	client := bareClient(gw)
	return &side{Name: "bare SDK loop", Bytes: set.Bytes,
		How: fmt.Sprintf("aws-sdk-go-v2 PutObject (or UploadPart, %d at once, %s parts) per file, %d workers, default checksums", parts, sizeString(b.cfg.PartSize), workers),
		Prep: func() error {
			bucket = b.bucketName("bare", label)
			_, err := gw.createBucket(ctx, bucket)
			return err
		},
		Run: func() (time.Duration, error) {
			return timed(func() error {
				return forEach(set.Files, workers, func(f clipFile) error {
					if f.Size > b.cfg.Threshold {
						return bareMultipart(ctx, client, bucket, f, b.cfg.PartSize, parts)
					}
					return barePut(ctx, client, bucket, f)
				})
			})
		},
		After: func() error {
			err := countObjects(ctx, gw, bucket, set)
			if rerr := gw.removeBucket(bucket); err == nil {
				err = rerr
			}
			return err
		},
	}
}

// bareClient is an SDK client with nothing but what versitygw needs: an
// endpoint, path-style addressing and the keys. Checksums, retries and the
// HTTP client are the SDK's defaults.
func bareClient(gw *gateway) *awss3.Client {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(gw.AccessKey, gw.SecretKey, "")}
	return awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		o.BaseEndpoint = aws.String(gw.Endpoint)
		o.UsePathStyle = true
	})
}

func barePut(ctx context.Context, c *awss3.Client, bucket string, f clipFile) error {
	r, err := os.Open(f.Path)
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = c.PutObject(ctx, &awss3.PutObjectInput{Bucket: &bucket, Key: aws.String(f.Name), Body: r, ContentLength: aws.Int64(f.Size)})
	return err
}

func bareMultipart(ctx context.Context, c *awss3.Client, bucket string, f clipFile, partSize int64, workers int) error {
	r, err := os.Open(f.Path)
	if err != nil {
		return err
	}
	defer r.Close()
	up, err := c.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: &bucket, Key: aws.String(f.Name)})
	if err != nil {
		return err
	}
	type part struct {
		n         int32
		off, size int64
	}
	var todo []part
	for n, off := int32(1), int64(0); off < f.Size; n, off = n+1, off+partSize {
		todo = append(todo, part{n, off, min(partSize, f.Size-off)})
	}
	var mu sync.Mutex
	var done []types.CompletedPart
	err = forEach(todo, workers, func(p part) error {
		out, err := c.UploadPart(ctx, &awss3.UploadPartInput{Bucket: &bucket, Key: aws.String(f.Name), UploadId: up.UploadId,
			PartNumber: aws.Int32(p.n), Body: io.NewSectionReader(r, p.off, p.size), ContentLength: aws.Int64(p.size)})
		if err != nil {
			return err
		}
		mu.Lock()
		done = append(done, types.CompletedPart{PartNumber: aws.Int32(p.n), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32, ChecksumCRC32C: out.ChecksumCRC32C})
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(done, func(x, y types.CompletedPart) int { return int(*x.PartNumber - *y.PartNumber) })
	_, err = c.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: &bucket, Key: aws.String(f.Name),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	return err
}

// countObjects checks that bucket holds as many objects and bytes as set.
func countObjects(ctx context.Context, gw *gateway, bucket string, set *fileSet) error {
	p := awss3.NewListObjectsV2Paginator(bareClient(gw), &awss3.ListObjectsV2Input{Bucket: &bucket})
	var n int
	var bytes int64
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list %s: %w", bucket, err)
		}
		for _, o := range out.Contents {
			n++
			bytes += aws.ToInt64(o.Size)
		}
	}
	if n != len(set.Files) || bytes != set.Bytes {
		return fmt.Errorf("bucket %s holds %d objects, %d bytes; want %d, %d", bucket, n, bytes, len(set.Files), set.Bytes)
	}
	return nil
}

// forEach calls f on every item with workers goroutines and returns the
// first error.
func forEach[T any](items []T, workers int, f func(T) error) error {
	work := make(chan T)
	errs := make(chan error, len(items))
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for it := range work {
				errs <- f(it)
			}
		})
	}
	for _, it := range items {
		work <- it
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
