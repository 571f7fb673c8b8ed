package s3

import (
	"context"
	"io"
	"net/http"

	"golang.org/x/time/rate"
)

// Option changes how a Store talks to the object store.
type Option func(*options)

type options struct {
	limiter *rate.Limiter
}

// WithUploadLimiter paces the bytes of request bodies (uploads) through l,
// so that uploads keep to the bandwidth the bureau's link can spare. The
// caller may change l's limit at any time; rate.Inf lifts it.
func WithUploadLimiter(l *rate.Limiter) Option {
	return func(o *options) { o.limiter = l }
}

// throttledTransport paces request bodies through a limiter.
type throttledTransport struct {
	next    http.RoundTripper
	limiter *rate.Limiter
}

func (t *throttledTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req = req.Clone(req.Context())
		req.Body = &throttledBody{ReadCloser: req.Body, ctx: req.Context(), limiter: t.limiter}
	}
	return t.next.RoundTrip(req)
}

type throttledBody struct {
	io.ReadCloser
	ctx     context.Context
	limiter *rate.Limiter
}

func (b *throttledBody) Read(p []byte) (int, error) {
	if burst := b.limiter.Burst(); len(p) > burst && b.limiter.Limit() != rate.Inf {
		p = p[:burst]
	}
	n, err := b.ReadCloser.Read(p)
	if n > 0 && b.limiter.Limit() != rate.Inf {
		if werr := b.limiter.WaitN(b.ctx, n); werr != nil {
			return n, werr
		}
	}
	return n, err
}
