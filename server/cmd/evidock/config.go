package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"evidock/internal/tlsca"
	evhttp "evidock/server/http"
)

// Environment variables that supply defaults for --server, --token-file
// and --ca-file, so that an operator sets them once in a shell profile.
const (
	EnvServer    = "EVIDOCK_SERVER"
	EnvTokenFile = "EVIDOCK_TOKEN_FILE"
	EnvCAFile    = "EVIDOCK_CA_FILE"
)

// Config says which server the CLI talks to and with what credentials.
type Config struct {
	// Server is the case server's base URL, e.g. http://127.0.0.1:8440.
	Server string
	// TokenFile holds the token the CLI authenticates with.
	TokenFile string
	// CAFile holds PEM certificates to trust for an https server besides
	// the machine's own roots: the bureau's private CA.
	CAFile string
}

// DefaultConfig returns the settings from EVIDOCK_SERVER,
// EVIDOCK_TOKEN_FILE and EVIDOCK_CA_FILE; flags override them.
func DefaultConfig() Config {
	return Config{Server: os.Getenv(EnvServer), TokenFile: os.Getenv(EnvTokenFile), CAFile: os.Getenv(EnvCAFile)}
}

// client returns a client of c.Server with token, trusting c.CAFile; it
// returns an error naming --ca-file if that cannot be loaded.
func (c *Config) client(token string) (*evhttp.Client, error) {
	tlsConfig, err := tlsca.Load(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("--ca-file: %w", err)
	}
	client := evhttp.NewClient(c.Server, token)
	client.UseTLS(tlsConfig)
	return client, nil
}

// Validate returns an error naming the first missing or malformed setting and
// how to supply it.
func (c *Config) Validate() error {
	switch {
	case c.Server == "":
		return fmt.Errorf("--server is empty: pass --server http://HOST:8440 or set %s", EnvServer)
	case c.TokenFile == "":
		return fmt.Errorf("--token-file is empty: pass the token file written by 'evidock-server station add' or set %s", EnvTokenFile)
	}
	u, err := url.Parse(c.Server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--server %q is not a server URL: write it like http://127.0.0.1:8440", c.Server)
	}
	return nil
}

// ValidateServer returns an error unless c.Server is a server URL; for
// commands that log in as a person rather than use a station token.
func (c *Config) ValidateServer() error {
	if c.Server == "" {
		return fmt.Errorf("--server is empty: pass --server http://HOST:8440 or set %s", EnvServer)
	}
	u, err := url.Parse(c.Server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--server %q is not a server URL: write it like http://127.0.0.1:8440", c.Server)
	}
	return nil
}

// ReadToken returns the token in c.TokenFile, or an error naming the file.
func (c *Config) ReadToken() (string, error) {
	b, err := os.ReadFile(c.TokenFile)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return "", errors.New("--token-file " + c.TokenFile + " is empty: it should hold the token written by 'evidock-server station add'")
	}
	return token, nil
}
