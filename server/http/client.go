package http

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"evidock"
)

var (
	_ evidock.ClipService     = (*Client)(nil)
	_ evidock.RecorderService = (*Client)(nil)
)

// maxResponseBody bounds a successful response the client decodes; a full
// page of clips is well under a megabyte.
const maxResponseBody = 64 << 20

// Client calls the case server's API with a station token, or, after
// Login, as a user with a session (link changes and exports are a person's,
// never a station's). It implements evidock.ClipService and
// evidock.RecorderService; errors come back as *evidock.Error with the
// server's code, and a server that cannot be reached gives EUNAVAILABLE.
type Client struct {
	// HTTPClient sends the requests. Its Timeout is a backstop for a server
	// that stops answering; callers bound their calls with contexts.
	HTTPClient *http.Client

	baseURL string
	token   string

	mu      sync.Mutex
	session *http.Cookie // set by Login
}

// NewClient returns a client of the server at baseURL (e.g.
// http://127.0.0.1:8440) that authenticates with token.
func NewClient(baseURL, token string) *Client {
	return &Client{
		HTTPClient: &http.Client{
			// Long enough for the server to read a multi-gigabyte clip
			// back from the object store while registering it.
			Timeout: 15 * time.Minute,
			Transport: &http.Transport{
				// A client of our own: a docking PC talks to the server its
				// config names, whatever proxy the machine has set.
				DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
				MaxIdleConnsPerHost:   8,
				IdleConnTimeout:       90 * time.Second,
				TLSHandshakeTimeout:   10 * time.Second,
				ExpectContinueTimeout: time.Second,
			},
		},
		baseURL: strings.TrimRight(baseURL, "/"),
		token:   token,
	}
}

// UseTLS makes the client check the server's certificate with cfg (see
// internal/tlsca: a private CA) instead of the machine's roots alone. A nil
// cfg changes nothing.
func (c *Client) UseTLS(cfg *tls.Config) {
	if t, ok := c.HTTPClient.Transport.(*http.Transport); ok && cfg != nil {
		t.TLSClientConfig = cfg
	}
}

// RegisterClip registers c with the server and fills c with the registered
// clip. It returns created == true if the server stored it now (201) and
// false if the digest was registered before (200); EUNVERIFIED if the
// server found the object missing or different, and the server's other
// errors with their codes.
func (c *Client) RegisterClip(ctx context.Context, clip *evidock.Clip) (bool, error) {
	body, err := encodeClip(clip)
	if err != nil {
		return false, err
	}
	var got evidock.Clip
	status, err := c.do(ctx, http.MethodPost, "/api/v1/clips", body, &got)
	if err != nil {
		return false, fmt.Errorf("register clip %s: %w", clip.Digest, err)
	}
	*clip = got
	return status == http.StatusCreated, nil
}

// FindClipByDigest returns the clip with digest d, or ENOTFOUND.
func (c *Client) FindClipByDigest(ctx context.Context, d evidock.Digest) (*evidock.Clip, error) {
	var got evidock.Clip
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/clips/"+d.String(), nil, &got); err != nil {
		return nil, fmt.Errorf("find clip %s: %w", d, err)
	}
	return &got, nil
}

// FindClips returns the clips matching f in CorrectedStartedAt order (f.From
// and f.To bound CorrectedStartedAt) and how many match in all; it returns
// EINVALID for a filter the server refuses.
func (c *Client) FindClips(ctx context.Context, f evidock.ClipFilter) ([]*evidock.Clip, int, error) {
	path := "/api/v1/clips"
	if q := encodeClipFilter(f); q != "" {
		path += "?" + q
	}
	var list clipList
	if _, err := c.do(ctx, http.MethodGet, path, nil, &list); err != nil {
		return nil, 0, fmt.Errorf("find clips: %w", err)
	}
	if list.Clips == nil {
		list.Clips = []*evidock.Clip{}
	}
	return list.Clips, list.Total, nil
}

// ReportDock sends r as a dock report and fills r with the recorder as the
// server stored it, LastStationID set to this client's station. It returns
// EINVALID for a report without a device serial or one the server refuses,
// and the server's other errors with their codes.
func (c *Client) ReportDock(ctx context.Context, r *evidock.Recorder) error {
	if r.DeviceSerial == "" {
		return evidock.Errorf(evidock.EINVALID, "report dock: recorder: device_serial is required")
	}
	body, err := encodeRecorder(r)
	if err != nil {
		return err
	}
	var got evidock.Recorder
	if _, err := c.do(ctx, http.MethodPut, "/api/v1/recorders/"+url.PathEscape(r.DeviceSerial), body, &got); err != nil {
		return fmt.Errorf("report dock of recorder %s: %w", r.DeviceSerial, err)
	}
	*r = got
	return nil
}

// FindRecorder returns the recorder with the device serial, ENOTFOUND if no
// station has reported it, or EINVALID for an empty or malformed serial.
func (c *Client) FindRecorder(ctx context.Context, serial string) (*evidock.Recorder, error) {
	if serial == "" {
		return nil, evidock.Errorf(evidock.EINVALID, "find recorder: a device serial is required")
	}
	var got evidock.Recorder
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/recorders/"+url.PathEscape(serial), nil, &got); err != nil {
		return nil, fmt.Errorf("find recorder %s: %w", serial, err)
	}
	return &got, nil
}

// FindRecorders returns every recorder in device serial order, or, if
// officer is not empty, those bound to that officer; EINVALID if the server
// refuses the officer number.
func (c *Client) FindRecorders(ctx context.Context, officer string) ([]*evidock.Recorder, error) {
	path := "/api/v1/recorders"
	if officer != "" {
		path += "?" + url.Values{"officer": {officer}}.Encode()
	}
	var list recorderList
	if _, err := c.do(ctx, http.MethodGet, path, nil, &list); err != nil {
		return nil, fmt.Errorf("find recorders: %w", err)
	}
	if list.Recorders == nil {
		list.Recorders = []*evidock.Recorder{}
	}
	return list.Recorders, nil
}

// Health returns nil if the server answers /healthz with OK, EUNAVAILABLE if
// it cannot be reached or its database cannot, and the server's error
// otherwise.
func (c *Client) Health(ctx context.Context) error {
	var out struct {
		Status string `json:"status"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/healthz", nil, &out); err != nil {
		return fmt.Errorf("health: %w", err)
	}
	if out.Status != "ok" {
		return evidock.Errorf(evidock.EUNAVAILABLE, "health: server reports status %q", out.Status)
	}
	return nil
}

// Login logs in as login with password and keeps the session, so that the
// client's later requests are the user's (and no longer send the station
// token, if it has one). It returns the user, EUNAUTHORIZED for a wrong
// login or password, ERATELIMITED after too many failures, and the
// server's other errors with their codes.
func (c *Client) Login(ctx context.Context, login, password string) (*evidock.User, error) {
	body, err := encodeBody(loginBody{Login: login, Password: password})
	if err != nil {
		return nil, err
	}
	req, err := c.newRequest(ctx, http.MethodPost, "/api/v1/login", body)
	if err != nil {
		return nil, err
	}
	req.Header.Del("Authorization")
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		return nil, transportError(ctx, "login", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("login %s: %w", login, responseError("POST /api/v1/login", resp))
	}
	var got session
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBody)).Decode(&got); err != nil || got.User == nil {
		return nil, evidock.Errorf(evidock.EUNAVAILABLE, "login %s: the server's answer is not a session", login)
	}
	for _, ck := range resp.Cookies() {
		if strings.HasSuffix(ck.Name, SessionCookie) && ck.Value != "" {
			c.mu.Lock()
			c.session = &http.Cookie{Name: ck.Name, Value: ck.Value}
			c.mu.Unlock()
			return got.User, nil
		}
	}
	return nil, evidock.Errorf(evidock.EUNAVAILABLE, "login %s: the server set no session cookie", login)
}

// Logout ends the session Login started, if any. It returns the server's
// error if the session could not be ended; the client forgets it either way.
func (c *Client) Logout(ctx context.Context) error {
	c.mu.Lock()
	had := c.session != nil
	c.mu.Unlock()
	if !had {
		return nil
	}
	var out map[string]string
	_, err := c.do(ctx, http.MethodPost, "/api/v1/logout", nil, &out)
	c.mu.Lock()
	c.session = nil
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// newRequest returns a request to path with the client's credentials: the
// session after Login, else the station token.
func (c *Client) newRequest(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	op := method + " " + strings.SplitN(path, "?", 2)[0]
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, rd)
	if err != nil {
		return nil, evidock.WrapError(evidock.EINVALID, err, "%s: server URL %q is not usable: %v", op, c.baseURL, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "evidock-client")
	c.mu.Lock()
	sess := c.session
	c.mu.Unlock()
	switch {
	case sess != nil:
		req.AddCookie(sess)
	case c.token != "":
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, nil
}

// do sends one request and decodes a 2xx JSON answer into out, returning the
// status; other answers become errors.
func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) (int, error) {
	op := method + " " + strings.SplitN(path, "?", 2)[0]
	req, err := c.newRequest(ctx, method, path, body)
	if err != nil {
		return 0, err
	}
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		return 0, transportError(ctx, op, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, responseError(op, resp)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBody)).Decode(out); err != nil {
		if ctx.Err() != nil {
			return resp.StatusCode, fmt.Errorf("%s: %w", op, ctx.Err())
		}
		return resp.StatusCode, evidock.WrapError(evidock.EUNAVAILABLE, err, "%s: reading the server's answer failed: %v", op, err)
	}
	return resp.StatusCode, nil
}
