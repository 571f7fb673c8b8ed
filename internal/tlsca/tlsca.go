// Package tlsca loads the certificates of a private certificate authority:
// on a bureau's isolated network, the object store and the case server
// often have certificates from the bureau's own CA, which a docking PC's
// trust store may lack.
package tlsca

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// Load returns a TLS client configuration that trusts the machine's own
// roots and the PEM certificates in file, or nil for an empty file name
// (the machine's roots alone, Go's default). It returns an error naming
// file if it cannot be read or holds no PEM certificate.
func Load(file string) (*tls.Config, error) {
	if file == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool() // a machine without a trust store of its own
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate (want the CA's certificate, -----BEGIN CERTIFICATE-----)", file)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}
