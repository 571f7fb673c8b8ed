package dockscreen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"evidock/agent"
)

// Client reads a running dock screen's /api/status: it is how
// "evidock-agent status" shows the live state of an agent in another
// process. It is a StatusSource.
type Client struct {
	// URL is the dock screen's base URL, e.g. http://127.0.0.1:8441.
	URL string
	// HTTPClient is used for the requests; nil means one that goes to the
	// address directly (no proxy) and gives up after StatusTimeout.
	HTTPClient *http.Client
}

var _ StatusSource = (*Client)(nil)

// NewClient returns a Client for the dock screen at baseURL.
func NewClient(baseURL string) *Client { return &Client{URL: baseURL} }

var directClient = &http.Client{
	Timeout: StatusTimeout,
	Transport: &http.Transport{
		Proxy:       nil, // the dock screen is local; a proxy from the environment must not see it
		DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
	},
}

// StatusError is the answer of a dock screen that is running but could not
// give the status (the agent's state store failed, say).
type StatusError struct {
	Code    int    // the HTTP status
	Message string // the dock screen's error message
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("dock screen answered %d: %s", e.Code, e.Message)
}

// Status returns the dock's status. It returns a *StatusError when the dock
// screen answers with an error, and the transport's error (wrapped) when
// nothing answers, which is what an agent that is not running looks like.
func (c *Client) Status(ctx context.Context) (*agent.DockStatus, error) {
	hc := c.HTTPClient
	if hc == nil {
		hc = directClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(c.URL, "/")+"/api/status", nil)
	if err != nil {
		return nil, fmt.Errorf("dock screen status: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("dock screen status: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("dock screen status: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e apiError
		if json.Unmarshal(body, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(body))
		}
		return nil, &StatusError{Code: resp.StatusCode, Message: e.Error}
	}
	var st agent.DockStatus
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, fmt.Errorf("dock screen status: decode: %w", err)
	}
	return &st, nil
}
