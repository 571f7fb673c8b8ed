package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"evidock"
)

// startBareHTTP serves the floor that any HTTP API in front of the same
// database pays: a bare net/http handler that decodes a clip's JSON and
// INSERTs its row with q (one autocommitted statement), then answers 201
// with the clip's digest. No authentication, no object check, no
// transparency log, no receipt. It returns the URL to POST to and a
// function that stops the server.
func startBareHTTP(k dbKind, db *benchDB, q string) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var c evidock.Clip
		if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := db.exec(r.Context(), q, clipArgs(k.Name, &c, "bench-dock-01", time.Now())...); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, "{\"blake3\":%q}\n", c.Digest)
	})}
	go srv.Serve(l)
	return "http://" + l.Addr().String() + "/clips", func() { srv.Shutdown(context.Background()) }, nil
}

// postBare POSTs c's JSON to url, as a station's client would, and reads
// the answer.
func postBare(ctx context.Context, client *http.Client, url string, c *evidock.Clip) error {
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusCreated {
		err = fmt.Errorf("POST %s: %s: %.200s", url, resp.Status, answer)
	}
	return err
}
